import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { GatewayError } from '../errors/GatewayError';
import { ErrorCode } from '../errors/codes';
import { fanOutEvents, type UpstreamEvents } from '../observability/events';
import { CredentialGate, isCredentialRefusal, type Clearance, type CredentialGateOptions, type CredentialOutcome } from './CredentialGate';
import type { Credentials } from './credentials';
import { classifyTransportError } from './errorMapping';
import { boundedSignal } from './boundedSignal';
import { exchange, type ExchangeResult, type UpstreamAnswer } from './exchange';
import type { Route } from './paths';
import { isCacheable, ttlFor, type CacheTtls } from './cache/cacheTtl';
import { deepFreeze } from './cache/deepFreeze';
import { ResponseCache, type CacheStats } from './cache/ResponseCache';
import { credentialDigest, scopeKey } from './cache/scopeKey';
import { SingleFlight } from './cache/SingleFlight';
import { BreakerBoard, isRefusal } from './resilience/BreakerBoard';
import { InFlightLimiter, type SlotBound } from './resilience/InFlightLimiter';
import { circuitOpenError, overloadedError } from './resilience/resilienceErrors';
import { decideRetry } from './resilience/retryDecision';

export { badResponse, type UpstreamAnswer } from './exchange';

export interface UpstreamCall {
  route: Route;
  path: string;
  query?: Readonly<Record<string, string | undefined>>;
  /** The engine an engine-scoped route is about: its failures count on that engine's breaker. */
  engineId?: string;
}

/**
 * Everything about one GraphQL operation that its upstream calls carry: whose credentials,
 * when to give up, which headers to propagate (trace context), and who counts the calls.
 */
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
   * The operation's record of the upstream refusing its credentials (401/403): once set, every
   * further call of the operation fails at once with that error instead of being made.
   */
  readonly refusal?: { error?: GatewayError };
}

/** How hard the client tries, and how it protects the upstream and itself. */
export interface ResilienceOptions {
  /** Bounds each attempt (`CSE_TIMEOUT_MS`). */
  readonly attemptTimeoutMs: number;
  /** Retries after the first attempt (`CSE_RETRIES`). */
  readonly retries: number;
  /** First backoff step (`CSE_RETRY_BASE_MS`). */
  readonly retryBaseMs: number;
  readonly maxInFlight: number;
  readonly maxQueue: number;
  /** The share of the slots and the queue one engine may hold. */
  readonly perEngine: SlotBound;
  /** The share of the slots and the queue one caller (credential scope) may hold. */
  readonly perCaller: SlotBound;
  readonly engineBreakerFailures: number;
  readonly upstreamBreakerFailures: number;
  readonly breakerOpenMs: number;
}

export interface CacheOptions {
  readonly ttls: CacheTtls;
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export interface CseHttpClientOptions {
  /** Base URL: scheme, host and an optional path prefix, no trailing slash. */
  endpoint: string;
  dispatcher: Dispatcher;
  /** Larger successful bodies are refused as UPSTREAM_BAD_RESPONSE (memory bound). */
  maxBodyBytes?: number;
  /** The process-wide event sink (metrics); each operation may add its own. */
  events?: UpstreamEvents;
  /** Default: the documented defaults of the CSE_* settings. */
  resilience?: Partial<ResilienceOptions>;
  /** Default: no response cache (identical concurrent calls are still made once). */
  cache?: CacheOptions;
  /** What the gateway remembers of the upstream's verdicts on credentials (see CredentialGate). */
  credentials?: Partial<Omit<CredentialGateOptions, 'now'>>;
  /** The jitter source, in [0, 1); injected by tests. */
  random?: () => number;
  /** Monotonic milliseconds for the breakers; injected by tests. */
  now?: () => number;
}

export const DEFAULT_RESILIENCE: ResilienceOptions = Object.freeze({
  attemptTimeoutMs: 5000,
  retries: 2,
  retryBaseMs: 100,
  maxInFlight: 64,
  maxQueue: 256,
  perEngine: { inFlight: 16, queue: 64 },
  perCaller: { inFlight: 32, queue: 128 },
  engineBreakerFailures: 5,
  upstreamBreakerFailures: 10,
  breakerOpenMs: 10_000,
});

const DEFAULT_CREDENTIALS: Omit<CredentialGateOptions, 'now'> = Object.freeze({ rejectionTtlMs: 10_000, recheckMs: 60_000, maxScopes: 100_000 });

const NO_CACHE: CacheOptions = { ttls: { listMs: 0, engineMs: 0, jobMs: 0, terminalJobMs: 0 }, maxEntries: 1, maxBytes: 1024 };

/** What is cached: the answer, frozen, so every reader sees the same thing. */
interface CachedAnswer {
  readonly answer: UpstreamAnswer;
}

/**
 * GETs JSON from the upstream with the caller's credentials. Every failure leaves as a
 * GatewayError with a code from the closed set; "not found" is an answer, not an error, because
 * most fields turn it into `null`.
 *
 * The one place where upstream calls are made resilient, in this order:
 * 1. response cache, per credential scope ({@link scopeKey}) and TTL by kind;
 * 2. single flight: identical calls in flight at once (same scope) are made once;
 * 3. per attempt: circuit breakers (the engine's and the whole upstream's), then a slot under
 *    the process-wide in-flight cap (or load shedding), then one HTTP exchange bounded by
 *    `attemptTimeoutMs` and the operation's deadline;
 * 4. retry with backoff (or `Retry-After`) while the rules in `decideRetry` allow and the
 *    deadline leaves room.
 * None of this lives in resolvers or loaders: they see one `get` that answers or throws.
 */
export class CseHttpClient {
  private readonly origin: string;
  private readonly pathPrefix: string;
  private readonly dispatcher: Dispatcher;
  private readonly maxBodyBytes: number;
  private readonly events: UpstreamEvents | undefined;
  private readonly resilience: ResilienceOptions;
  private readonly ttls: CacheTtls;
  private readonly cache: ResponseCache<CachedAnswer>;
  private readonly flights = new SingleFlight<UpstreamAnswer>();
  private readonly breakers: BreakerBoard;
  private readonly limiter: InFlightLimiter;
  private readonly gate: CredentialGate;
  private readonly random: () => number;

  constructor(options: CseHttpClientOptions) {
    const url = new URL(options.endpoint);
    this.origin = url.origin;
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    this.dispatcher = options.dispatcher;
    this.maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
    this.events = options.events;
    this.resilience = { ...DEFAULT_RESILIENCE, ...options.resilience };
    const cache = options.cache ?? NO_CACHE;
    this.ttls = cache.ttls;
    this.cache = new ResponseCache({ maxEntries: cache.maxEntries, maxBytes: cache.maxBytes });
    this.breakers = new BreakerBoard({
      engineFailures: this.resilience.engineBreakerFailures,
      upstreamFailures: this.resilience.upstreamBreakerFailures,
      openMs: this.resilience.breakerOpenMs,
      now: options.now,
    });
    const { maxInFlight, maxQueue, perEngine, perCaller } = this.resilience;
    this.limiter = new InFlightLimiter({ inFlight: maxInFlight, queue: maxQueue, perEngine, perCaller }, (count) => this.events?.inFlight?.(count));
    this.gate = new CredentialGate({ ...DEFAULT_CREDENTIALS, ...options.credentials, now: options.now });
    this.random = options.random ?? Math.random;
  }

  /** The response cache's size against its bounds (for metrics and tests). */
  get cacheStats(): CacheStats {
    return this.cache.stats;
  }

  /**
   * Whether answers kept for these credentials may be served to them now: only while the upstream
   * itself answered one of their calls within `CACHE_AUTH_RECHECK_MS` (see CredentialGate).
   */
  vouchesFor(credentials: Credentials): boolean {
    return this.gate.vouches(credentialDigest(credentials));
  }

  async get(call: UpstreamCall, request: UpstreamRequestContext): Promise<UpstreamAnswer> {
    const digest = credentialDigest(request.credentials);
    // Credentials the upstream refused in this operation, or rejected (401) recently: no call.
    const refused = request.refusal?.error ?? this.gate.rejection(digest);
    if (refused !== undefined) throw refused;
    const path = this.pathPrefix + call.path + queryString(call.query);
    const events = fanOutEvents(this.events, request.events);
    const key = scopeKey(request.credentials, this.origin + path);
    const cacheable = isCacheable(call.route, this.ttls);
    if (cacheable) {
      // A scope the upstream has not answered within CACHE_AUTH_RECHECK_MS is not served from the
      // cache (its token may have been revoked since): the lookup counts as a miss.
      const hit = this.gate.vouches(digest) ? this.cache.get(key) : undefined;
      events.cache?.({ route: call.route, hit: hit !== undefined });
      if (hit !== undefined) return hit.answer;
    }
    try {
      return await this.flights.run(
        key,
        request.signal,
        async (signal, flight) => {
          const answer = await this.cleared(digest, signal, () => this.fetch(call, path, request, digest, signal, events, cacheable ? key : undefined));
          // Shared answers are frozen, so no operation can change what another sees; one that was
          // cached is frozen already (see fetch). An answer only its own operation ever sees is
          // left as parsed: freezing it was 2.4% of the CPU of an uncached page.
          return flight.shared ? deepFreeze(answer) : answer;
        },
        () => events.coalesced?.({ route: call.route }),
      );
    } catch (error) {
      // A caller who stops waiting (deadline, client gone) is rejected with its signal's reason,
      // a DOMException: it still leaves as a coded error (UPSTREAM_TIMEOUT), never unmasked.
      if (request.signal?.aborted === true && error === request.signal.reason) throw classifyTransportError(error);
      if (isCredentialRefusal(error) && request.refusal !== undefined) request.refusal.error ??= error;
      throw error;
    }
  }

  /**
   * Runs `fetch` once the credential gate lets the call go (at once for a scope the upstream
   * answered recently; after the probe's verdict otherwise), and reports what it showed.
   */
  private async cleared(digest: string, signal: AbortSignal, fetch: () => Promise<UpstreamAnswer>): Promise<UpstreamAnswer> {
    let clearance: Clearance;
    try {
      clearance = await this.gate.admit(digest, signal);
    } catch (reason) {
      throw classifyTransportError(reason);
    }
    let outcome: CredentialOutcome = UNKNOWN_OUTCOME;
    try {
      const answer = await fetch();
      outcome = ACCEPTED;
      return answer;
    } catch (error) {
      outcome = credentialOutcomeOf(error);
      throw error;
    } finally {
      this.gate.settle(digest, clearance, outcome);
    }
  }

  /**
   * The attempts of one call. `signal` aborts when every operation waiting for it has gone; the
   * deadline is the operation's that started the call (a later joiner with more time left shares
   * the first one's budget).
   */
  private async fetch(
    call: UpstreamCall,
    path: string,
    request: UpstreamRequestContext,
    digest: string,
    signal: AbortSignal,
    events: UpstreamEvents,
    cacheKey: string | undefined,
  ): Promise<UpstreamAnswer> {
    const headers = upstreamHeaders(request);
    const engineKey = call.engineId === undefined ? undefined : `${request.credentials.projectId}/${call.engineId}`;
    const claim = { engine: engineKey, caller: digest };
    for (let retriesDone = 0; ; retriesDone += 1) {
      const remaining = remainingMs(request.deadline);
      if (remaining <= 0) throw deadlinePassed();
      const admission = this.breakers.admit(engineKey, events);
      if (isRefusal(admission)) throw circuitOpenError(admission.scope, admission.retryAfterMs);
      const slot = this.limiter.acquire(claim, signal);
      if (slot === undefined) {
        this.breakers.settle(engineKey, admission, 'cancelled', events);
        events.shed?.({ route: call.route });
        throw overloadedError();
      }
      let release: () => void;
      try {
        release = await slot;
      } catch (reason) {
        this.breakers.settle(engineKey, admission, 'cancelled', events);
        throw classifyTransportError(reason);
      }
      // The call may have waited for its slot while a breaker opened: it must not go then.
      const late = this.breakers.recheck(engineKey, admission);
      if (late !== undefined) {
        release();
        this.breakers.settle(engineKey, admission, 'cancelled', events);
        throw circuitOpenError(late.scope, late.retryAfterMs);
      }
      request.events?.inFlight?.(this.limiter.inFlight);

      const started = performance.now();
      let result: ExchangeResult;
      try {
        // The operation's deadline clips the attempt's own bound; running into it says nothing
        // about the upstream's health, so such a timeout is not held against the breakers.
        const budget = Math.min(this.resilience.attemptTimeoutMs, remainingMs(request.deadline));
        const attempt = boundedSignal(signal, Math.max(1, budget));
        try {
          result = await exchange(this.dispatcher, {
            origin: this.origin,
            path,
            headers,
            signal: attempt.signal,
            maxBodyBytes: this.maxBodyBytes,
          });
        } finally {
          attempt.dispose();
        }
        if (!result.ok && (signal.aborted || (attempt.signal.aborted && budget < this.resilience.attemptTimeoutMs))) {
          result = { ...result, kind: 'cancelled' };
        }
      } catch (error) {
        // `exchange` classifies every failure; only a bug of ours lands here.
        this.breakers.settle(engineKey, admission, 'cancelled', events);
        release();
        throw error;
      }
      // The breakers hear of the attempt before its slot passes to a queued call, which asks
      // them again (see BreakerBoard.recheck): a failure that opens a breaker stops that call.
      this.breakers.settle(engineKey, admission, result.ok ? 'answer' : result.kind, events);
      release();
      request.events?.inFlight?.(this.limiter.inFlight);
      events.attempt?.({
        route: call.route,
        status: result.status,
        durationMs: performance.now() - started,
        outcome: result.ok ? result.answer.kind : 'error',
        attempt: retriesDone,
      });
      if (result.ok) {
        if (cacheKey !== undefined && result.answer.kind === 'ok') {
          // Frozen before it is stored: the cached object is the one every later reader gets.
          const answer = deepFreeze(result.answer);
          this.cache.set(cacheKey, { answer }, ttlFor(call.route, answer.body, this.ttls), result.bytes);
        }
        return result.answer;
      }
      if (result.kind === 'cancelled') throw result.error;

      const retryAfter = result.error.extensions.retryAfter;
      const decision = decideRetry({
        kind: result.kind,
        status: result.status,
        retryAfterMs: typeof retryAfter === 'number' ? retryAfter * 1000 : undefined,
        retriesDone,
        maxRetries: this.resilience.retries,
        remainingMs: remainingMs(request.deadline),
        baseMs: this.resilience.retryBaseMs,
        random: this.random(),
      });
      if (!decision.retry) throw result.error;
      try {
        await sleep(decision.delayMs, undefined, { signal });
      } catch (reason) {
        throw classifyTransportError(reason);
      }
    }
  }
}

const ACCEPTED: CredentialOutcome = Object.freeze({ kind: 'accepted' });
const UNKNOWN_OUTCOME: CredentialOutcome = Object.freeze({ kind: 'unknown' });

/**
 * What a failed call says about its credentials: 401/403 refuse them; any other answer of the
 * upstream's own (a 4xx such as a malformed id) means it accepted them; the rest says nothing.
 */
function credentialOutcomeOf(error: unknown): CredentialOutcome {
  if (isCredentialRefusal(error)) return { kind: 'refused', error };
  if (error instanceof GatewayError) {
    const status = (error.extensions.upstream as { status?: number } | undefined)?.status;
    if (status !== undefined && status >= 400 && status < 500 && status !== 429) return ACCEPTED;
  }
  return UNKNOWN_OUTCOME;
}

function upstreamHeaders(request: UpstreamRequestContext): Record<string, string> {
  const { credentials } = request;
  const headers: Record<string, string> = {
    ...request.propagate,
    'x-auth-token': credentials.token,
    accept: 'application/json',
    'content-type': 'application/json;charset=UTF-8',
  };
  if (credentials.enterpriseProjectId !== undefined) headers['x-enterprise-project-id'] = credentials.enterpriseProjectId;
  return headers;
}

function remainingMs(deadline: number | undefined): number {
  return deadline === undefined ? Number.POSITIVE_INFINITY : deadline - Date.now();
}

function deadlinePassed(): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_TIMEOUT, 'The operation ran out of time before the upstream answered.');
}

function queryString(query: UpstreamCall['query']): string {
  if (query === undefined) return '';
  let out = '';
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    out += `${out === '' ? '?' : '&'}${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
  }
  return out;
}
