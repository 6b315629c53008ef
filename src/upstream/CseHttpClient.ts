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

export type { UpstreamAnswer } from './exchange';
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
  readonly attemptTimeoutMs: number;
  readonly maxResponseBytes: number;
  readonly retries: number;
  readonly retryBaseMs: number;
  readonly maxInFlight: number;
  readonly maxQueue: number;
  readonly perEngine: SlotBound;
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

export interface CredentialOptions {
  readonly rejectionTtlMs: number;
  readonly recheckMs: number;
}

/** Every option is required: the defaults live in `loadConfig` alone. */
export interface CseHttpClientOptions {
  /** Scheme, host and an optional path prefix. */
  readonly endpoint: string;
  readonly dispatcher: Dispatcher;
  /** The process-wide event sink (metrics); each operation may add its own. */
  readonly events: UpstreamEvents | undefined;
  readonly resilience: ResilienceOptions;
  readonly cache: CacheOptions;
  readonly credentials: CredentialOptions;
  /** The jitter source, in [0, 1), and monotonic milliseconds; injected by tests. */
  readonly random?: () => number;
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
 * GatewayError; "not found" is an answer, since most fields turn it into `null`. The one place
 * where upstream calls are made resilient, as a chain of stages (see stages/types), outermost
 * first: refusal (credentials refused recently), cache, single flight (with Redis, then the
 * fleet's level), credential gate, retry; then per attempt: breaker check, in-flight slot,
 * breakers, one HTTP exchange. Resolvers and loaders see one `get` that answers or throws.
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

  /** The upstream answer cache's size against its bounds (metrics). */
  get cacheStats(): CacheStats {
    return this.cache.stats;
  }

  /** The credentials' cache generation while answers kept for them may be served (CredentialGate.generation). */
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
