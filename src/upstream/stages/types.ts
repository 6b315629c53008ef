import type { GatewayError, UpstreamErrorInfo } from '../../errors/GatewayError';
import type { Route, UpstreamEvents } from '../../observability/events';
import type { Credentials } from '../credentials';
import type { AbortSignalLike } from '../../cache/abort';
import type { Failure } from '../errorMapping';

// Composed as undici's interceptors; attempt stages throw only for the gateway's own refusals.

/** `bytes`: the body as received, what caches count; `text`: the body, kept only with Redis. */
export type UpstreamAnswer =
  | { kind: 'ok'; body: unknown; requestId: string | undefined; bytes: number; text?: string }
  | { kind: 'not-found'; upstream: UpstreamErrorInfo };

export type ExchangeResult =
  | { readonly ok: true; readonly answer: UpstreamAnswer; readonly status: number; readonly durationMs: number }
  | (Failure & { readonly ok: false; readonly status: number | undefined; readonly durationMs: number });

export interface UpstreamRequestContext {
  readonly credentials: Credentials;
  /** The client's address (addressKey): a subscription poll's is its watch's starter's (EngineWatch). */
  readonly address?: string;
  readonly signal?: AbortSignalLike;
  /** On `performance.now()`'s clock ({@link deadlineIn}): no attempt, backoff or `Retry-After` wait goes past it. */
  readonly deadline?: number;
  readonly propagate?: Readonly<Record<string, string>>;
  readonly events?: UpstreamEvents;
  /** The operation's 401, once the upstream refused its credentials: its later calls fail with it. */
  readonly refusal?: { error?: GatewayError };
  /** The upstream's answer now, not a cached one (a subscription's poll); it is still stored. */
  readonly fresh?: boolean;
  /** A call the cache did not answer, before it joins one in flight or goes out; throws to refuse it. */
  readonly beforeCall?: () => void;
}

export interface CallRequest {
  readonly route: Route;
  readonly path: string;
  /** `project/engine` of an engine route: its failures count on that engine's breaker. */
  readonly engineKey: string | undefined;
  readonly request: UpstreamRequestContext;
  /** The credentials' digest: the caller's scope, never the token. */
  readonly digest: string;
  /** The caller whose shares the call counts in (`callerDigest`): its token, projects left out. */
  readonly caller: string;
  /** Credentials the upstream has not accepted (yet): the in-flight limits count all such as one caller. */
  readonly stranger?: boolean;
  /** Digest and full URL: the call's identity for the cache and the single flight. */
  readonly key: string;
  readonly events: UpstreamEvents;
  /** The operation's signal outside the single flight; the flight's own (all callers left) inside. */
  readonly signal: AbortSignalLike | undefined;
  /** The operation's room for this call's answer (with a budget). */
  readonly room?: AnswerRoom;
}

/** Room an operation holds for one call's answer while it is read: an answer that does not fit is not read
 * whole, and the call fails with AnswerOutgrewRoom. */
export interface AnswerRoom {
  /** Whether an answer of `bytes` (announced, or read so far) may be read: room is held for them if it is.
   * `shared`: other operations still wait for the answer (a single flight), so it may be read past what the
   * room's own operation may still use; each counts it against its own bound. */
  fits(bytes: number, shared?: boolean): boolean;
}

export type CallHandler = (call: CallRequest) => Promise<UpstreamAnswer>;
export type CallStage = (next: CallHandler) => CallHandler;

export interface AttemptRequest extends CallRequest {
  readonly signal: AbortSignalLike;
  readonly attempt: number;
}

export type AttemptHandler = (attempt: AttemptRequest) => Promise<ExchangeResult>;
export type AttemptStage = (next: AttemptHandler) => AttemptHandler;

export function compose<H>(stages: ReadonlyArray<(next: H) => H>, end: H): H {
  return stages.reduceRight((next, stage) => stage(next), end);
}

export const NEVER = new AbortController().signal;

// The monotonic clock: a step of the wall clock must not end operations early or let them run on.
export const deadlineIn = (ms: number): number => performance.now() + ms;

export function remainingMs(deadline: number | undefined): number {
  return deadline === undefined ? Number.POSITIVE_INFINITY : deadline - performance.now();
}
