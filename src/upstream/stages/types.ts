import type { GatewayError, UpstreamErrorInfo } from '../../errors/GatewayError';
import type { Route, UpstreamEvents } from '../../observability/events';
import type { Credentials } from '../credentials';
import type { Failure } from '../errorMapping';

/**
 * The upstream client is a chain of stages, as undici composes interceptors: each gets the call
 * and the next stage. Call stages answer one upstream call or throw its GatewayError; attempt
 * stages return what one HTTP attempt came to ({@link ExchangeResult}) for the retry stage to
 * decide on, and throw only for the gateway's own refusals (breaker open, overloaded, caller left).
 */

/**
 * A successful answer (with the size of its body as received, what caches count), or the
 * upstream's "not found". `text` is the body as sent, kept only with Redis (see encodeAnswer in redis/SharedAnswers.ts); the
 * in-memory cache keeps answers without it (see withoutText).
 */
export type UpstreamAnswer =
  | { kind: 'ok'; body: unknown; requestId: string | undefined; bytes: number; text?: string }
  | { kind: 'not-found'; upstream: UpstreamErrorInfo };

/** What one HTTP exchange with the upstream came to, and how long it took. */
export type ExchangeResult =
  | { readonly ok: true; readonly answer: UpstreamAnswer; readonly status: number; readonly durationMs: number }
  | (Failure & { readonly ok: false; readonly status: number | undefined; readonly durationMs: number });

/** What one operation's calls carry: whose credentials, when to give up, which headers, who counts. */
export interface UpstreamRequestContext {
  readonly credentials: Credentials;
  /** Aborts every call of the operation (client gone, operation deadline). */
  readonly signal?: AbortSignal;
  /** When the operation gives up (epoch ms): no attempt, backoff or `Retry-After` wait goes past it. */
  readonly deadline?: number;
  /** Extra headers to send with every call, e.g. a W3C `traceparent`. */
  readonly propagate?: Readonly<Record<string, string>>;
  /** The operation's own event sink (per-operation counts). */
  readonly events?: UpstreamEvents;
  /** The operation's 401, once the upstream refused its credentials: its later calls fail with it. */
  readonly refusal?: { error?: GatewayError };
  /** The upstream's answer now, not a cached one (a subscription's poll); it is still stored. */
  readonly fresh?: boolean;
}

export interface CallRequest {
  readonly route: Route;
  /** Path and query, encoded, prefix included: what goes on the request line. */
  readonly path: string;
  /** `project/engine` of an engine route: its failures count on that engine's breaker. */
  readonly engineKey: string | undefined;
  readonly request: UpstreamRequestContext;
  /** The credentials' digest (see credentialDigest): the caller's scope, never the token. */
  readonly digest: string;
  /** The call's identity for the cache and the single flight: digest and full URL. */
  readonly key: string;
  /** The process-wide sink and the operation's, together. */
  readonly events: UpstreamEvents;
  /** The operation's signal outside the single flight; the flight's own (all callers left) inside. */
  readonly signal: AbortSignal | undefined;
}

export type CallHandler = (call: CallRequest) => Promise<UpstreamAnswer>;
export type CallStage = (next: CallHandler) => CallHandler;

export interface AttemptRequest extends CallRequest {
  readonly signal: AbortSignal;
  /** 0 for the first attempt, 1 for the first retry … */
  readonly attempt: number;
}

export type AttemptHandler = (attempt: AttemptRequest) => Promise<ExchangeResult>;
export type AttemptStage = (next: AttemptHandler) => AttemptHandler;

/** Stages applied outermost first: `compose([a, b], end)` is `a(b(end))`. */
export function compose<H>(stages: ReadonlyArray<(next: H) => H>, end: H): H {
  return stages.reduceRight((next, stage) => stage(next), end);
}

/** Time left until a deadline (Infinity when there is none). */
export function remainingMs(deadline: number | undefined): number {
  return deadline === undefined ? Number.POSITIVE_INFINITY : deadline - Date.now();
}
