import type { Dispatcher } from 'undici';
import { fanOutEvents, type UpstreamEvents } from '../observability/events';
import { CredentialGate } from './CredentialGate';
import type { Credentials } from './credentials';
import type { UpstreamAnswer } from './exchange';
import type { Route } from './paths';
import type { CacheTtls } from '../cache/freshness';
import { UpstreamAnswerCache, type CacheStats } from '../cache/UpstreamAnswerCache';
import { credentialDigest, scopeKey } from '../cache/scopeKey';
import { SingleFlight } from '../cache/SingleFlight';
import { BreakerBoard } from './resilience/BreakerBoard';
import { InFlightLimiter, type SlotBound } from './resilience/InFlightLimiter';
import { breakerCheckStage, breakerStage } from './stages/breakerStages';
import { cacheStage, secondLevelStage, singleFlightStage, type CachedAnswer } from './stages/cacheStage';
import { credentialGateStage } from './stages/credentialGateStage';
import { exchangeStage } from './stages/exchangeStage';
import { limiterStage } from './stages/limiterStage';
import { refusalStage } from './stages/refusalStage';
import { retryStage } from './stages/retryStage';
import type { SecondLevel } from '../cache/secondLevel';
import { compose, type CallHandler, type UpstreamRequestContext } from './stages/types';

export { badResponse, type UpstreamAnswer } from './exchange';
export type { UpstreamRequestContext } from './stages/types';

export interface UpstreamCall {
  route: Route;
  path: string;
  query?: Readonly<Record<string, string | undefined>>;
  /** The engine an engine-scoped route is about: its failures count on that engine's breaker. */
  engineId?: string;
}

/** How hard the client tries, and how it protects the upstream and itself. */
export interface ResilienceOptions {
  /** Bounds each attempt (`CSE_TIMEOUT_MS`). */
  readonly attemptTimeoutMs: number;
  /** Larger successful answers are refused as UPSTREAM_BAD_RESPONSE (`CSE_MAX_RESPONSE_BYTES`). */
  readonly maxResponseBytes: number;
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

/** What the gateway remembers of the upstream's verdicts on credentials (see CredentialGate). */
export interface CredentialOptions {
  readonly rejectionTtlMs: number;
  readonly recheckMs: number;
}

/** Every option is required: the defaults live in `loadConfig` alone (see createCseHttpClient). */
export interface CseHttpClientOptions {
  /** Base URL: scheme, host and an optional path prefix, no trailing slash. */
  readonly endpoint: string;
  readonly dispatcher: Dispatcher;
  /** The process-wide event sink (metrics); each operation may add its own. */
  readonly events: UpstreamEvents | undefined;
  readonly resilience: ResilienceOptions;
  /** TTLs of 0 turn a kind of answer's cache off (identical concurrent calls are still made once). */
  readonly cache: CacheOptions;
  readonly credentials: CredentialOptions;
  /** The jitter source, in [0, 1); injected by tests. */
  readonly random?: () => number;
  /** Monotonic milliseconds for the breakers and the credential gate; injected by tests. */
  readonly now?: () => number;
  /** With REDIS_URL: the state this replica shares with the others (see docs/replicas.md). */
  readonly shared?: SharedUpstreamState;
}

/** What the upstream client shares with other replicas through Redis. */
export interface SharedUpstreamState {
  /** The second level of the answer cache, identical calls on several replicas made once, and the fleet's credential generations. */
  readonly answers: SecondLevel<UpstreamAnswer>;
}

/**
 * GETs JSON from the upstream with the caller's credentials. Every failure leaves as a
 * GatewayError with a code from the closed set; "not found" is an answer, not an error, because
 * most fields turn it into `null`.
 *
 * The one place where upstream calls are made resilient, as a chain of stages (see stages/types),
 * outermost first:
 *
 * 1. refusal: credentials refused in this operation, or rejected recently, fail at once;
 * 2. cache: answers reused per credential scope, TTL by kind;
 * 3. single flight: identical calls in flight at once (same scope) are made once;
 *    with Redis, then: the fleet's level — the cache's second level, and a lease that makes
 *    identical calls on several replicas one (one round trip before the call, one after);
 * 4. credential gate: a scope the upstream has not answered recently goes one call at a time;
 * 5. retry: backoff (or `Retry-After`) while the rules allow and the deadline leaves room;
 *    then, per attempt:
 * 6. breaker check: an open breaker refuses before the attempt queues, as does a 429 whose
 *    `Retry-After` the caller is waiting out for that engine;
 * 7. in-flight slot under the process's caps and the engine's and caller's shares, or shedding;
 * 8. breakers: the engine's and the whole upstream's permits, settled before the slot is freed;
 * 9. one HTTP exchange, bounded by `attemptTimeoutMs` and the operation's deadline.
 *
 * None of this lives in resolvers or loaders: they see one `get` that answers or throws.
 */
export class CseHttpClient {
  private readonly origin: string;
  private readonly pathPrefix: string;
  private readonly events: UpstreamEvents | undefined;
  private readonly cache: UpstreamAnswerCache<CachedAnswer>;
  private readonly gate: CredentialGate;
  private readonly handle: CallHandler;

  constructor(options: CseHttpClientOptions) {
    const url = new URL(options.endpoint);
    this.origin = url.origin;
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    this.events = options.events;
    const { resilience } = options;
    this.cache = new UpstreamAnswerCache({ maxEntries: options.cache.maxEntries, maxBytes: options.cache.maxBytes });
    this.gate = new CredentialGate({ ...options.credentials, now: options.now });
    const breakers = new BreakerBoard({
      engineFailures: resilience.engineBreakerFailures,
      upstreamFailures: resilience.upstreamBreakerFailures,
      openMs: resilience.breakerOpenMs,
      now: options.now,
    });
    const limits = { inFlight: resilience.maxInFlight, queue: resilience.maxQueue, perEngine: resilience.perEngine, perCaller: resilience.perCaller };
    const limiter = new InFlightLimiter(limits, (count) => this.events?.inFlight?.(count));
    const attempt = compose(
      [breakerCheckStage(breakers), limiterStage(limiter), breakerStage(breakers)],
      exchangeStage({ dispatcher: options.dispatcher, origin: this.origin, attemptTimeoutMs: resilience.attemptTimeoutMs, maxBodyBytes: resilience.maxResponseBytes, keepText: options.shared !== undefined }),
    );
    const retry = retryStage({ retries: resilience.retries, retryBaseMs: resilience.retryBaseMs, random: options.random ?? Math.random });
    const { shared } = options;
    const fleet = shared === undefined ? undefined : secondLevelStage(shared.answers, options.cache.ttls, this.gate);
    this.handle = compose(
      [
        refusalStage(this.gate),
        cacheStage(this.cache, options.cache.ttls, this.gate, fleet?.fromSecondLevel),
        singleFlightStage(new SingleFlight<UpstreamAnswer>()),
        // Breakers, in-flight limits and the credential gate's probes stay per replica (docs/replicas.md).
        ...(fleet === undefined ? [] : [fleet.stage]),
        credentialGateStage(this.gate, shared?.answers),
      ],
      retry(attempt),
    );
  }

  /** The upstream answer cache's size against its bounds (for metrics and tests). */
  get cacheStats(): CacheStats {
    return this.cache.stats;
  }

  /**
   * The credentials' cache generation while answers kept for them may be served to them:
   * only while the upstream itself answered one of their calls within `CACHE_AUTH_RECHECK_MS`,
   * and for answers kept since it last refused them (see CredentialGate.generation).
   */
  cacheGenerationFor(credentials: Credentials): number | undefined {
    return this.gate.generation(credentialDigest(credentials));
  }

  get(call: UpstreamCall, request: UpstreamRequestContext): Promise<UpstreamAnswer> {
    const path = this.pathPrefix + call.path + queryString(call.query);
    return this.handle({
      route: call.route,
      path,
      engineKey: call.engineId === undefined ? undefined : `${request.credentials.projectId}/${call.engineId}`,
      request,
      digest: credentialDigest(request.credentials),
      key: scopeKey(request.credentials, this.origin + path),
      events: fanOutEvents(this.events, request.events),
      signal: request.signal,
    });
  }
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
