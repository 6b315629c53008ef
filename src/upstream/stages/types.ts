import type { GatewayError } from '../../errors/GatewayError';
import type { UpstreamEvents } from '../../observability/events';
import type { Credentials } from '../credentials';
import type { ExchangeResult, UpstreamAnswer } from '../exchange';
import type { Route } from '../paths';

/**
 * The upstream client is a chain of small stages, the way undici composes interceptors onto a
 * dispatcher: each stage gets the call and the next stage, and does one thing around it. Two
 * kinds, because retrying changes the unit of work:
 *
 * - call stages (cache, single flight, credential gate, retry) handle one upstream call and
 *   answer it or throw its GatewayError;
 * - attempt stages (breaker check, in-flight slot, breaker, exchange) handle one HTTP attempt of
 *   it, and return what the attempt came to ({@link ExchangeResult}), for the retry stage to
 *   decide on. A thrown error there ends the call (it is the gateway's own refusal: a breaker is
 *   open, the gateway is overloaded, the caller left).
 */

/** What one operation's calls carry: whose credentials, when to give up, which headers to add, who counts. */
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
  /**
   * The operation's record of the upstream refusing its credentials (a 401): once set, every
   * further call of the operation fails at once with that error instead of being made.
   */
  readonly refusal?: { error?: GatewayError };
  /**
   * The call wants the upstream's answer now, not one the cache kept (a subscription's poll, which
   * exists to see changes); its answer is still stored for others.
   */
  readonly fresh?: boolean;
}

/** One upstream call, as every stage sees it. */
export interface CallRequest {
  readonly route: Route;
  /** Path and query, encoded, prefix included: what goes on the request line. */
  readonly path: string;
  /** The engine an engine-scoped route is about: its failures count on that engine's breaker. */
  readonly engineKey: string | undefined;
  readonly request: UpstreamRequestContext;
  /** The credentials' digest (see credentialDigest): the caller's scope, never the token. */
  readonly digest: string;
  /** The call's identity for the cache and the single flight: digest and full URL. */
  readonly key: string;
  /** The process-wide sink and the operation's, together. */
  readonly events: UpstreamEvents;
  /**
   * What stops waiting for this call: the operation's signal outside the single flight, the
   * flight's own (aborted when every participant has left) inside it.
   */
  readonly signal: AbortSignal | undefined;
}

export type CallHandler = (call: CallRequest) => Promise<UpstreamAnswer>;
export type CallStage = (next: CallHandler) => CallHandler;

/** One HTTP attempt of a call. */
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
