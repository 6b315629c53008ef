import type { Dispatcher } from 'undici';
import { credentialDigest, scopeKey } from '../cache/scopeKey';
import type { SecondLevel } from '../cache/secondLevel';
import { SingleFlight } from '../cache/SingleFlight';
import { UpstreamAnswerCache, type CacheStats } from '../cache/UpstreamAnswerCache';
import type { GatewayConfig } from '../config/loadConfig';
import { fanOutEvents, type Route, type UpstreamEvents } from '../observability/events';
import { CredentialGate } from './CredentialGate';
import type { Credentials } from './credentials';
import { exchangeStage } from './exchange';
import { BreakerBoard } from './resilience/BreakerBoard';
import { InFlightLimiter } from './resilience/InFlightLimiter';
import { cacheStage, secondLevelStage, singleFlightStage, type CachedAnswer } from './stages/cacheStage';
import { retryStage } from './stages/retryStage';
import { compose, type CallHandler, type UpstreamAnswer, type UpstreamRequestContext } from './stages/types';

export interface UpstreamCall {
  route: Route;
  path: string;
  query?: Readonly<Record<string, string | undefined>>;
  /** The engine an engine-scoped route is about: its failures count on that engine's breaker. */
  engineId?: string;
}

/** The configuration's own sections: the defaults live in `loadConfig` alone. */
export interface CseHttpClientOptions {
  /** Scheme, host and an optional path prefix. */
  readonly endpoint: string;
  readonly dispatcher: Dispatcher;
  /** The process-wide event sink (metrics); each operation may add its own. */
  readonly events: UpstreamEvents | undefined;
  readonly resilience: GatewayConfig['upstream']['resilience'];
  readonly cache: Pick<GatewayConfig['cache'], 'ttls' | 'maxEntries' | 'maxBytes'>;
  readonly credentials: GatewayConfig['upstream']['credentials'];
  /** The jitter source, in [0, 1); injected by tests. */
  readonly random?: () => number;
  /** With REDIS_URL: the state this replica shares with the others (see docs/replicas.md). */
  readonly shared?: SharedUpstreamState;
}

/** What the upstream client shares with other replicas through Redis. */
export interface SharedUpstreamState {
  /** The answer cache's second level, calls made once fleet-wide, and the credential generations. */
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
  private readonly cache: UpstreamAnswerCache<CachedAnswer>;
  private readonly gate: CredentialGate;
  private readonly handle: CallHandler;
  /** An operation's sink → it and the process's together: made once per operation, not per call. */
  private readonly sinks = new WeakMap<UpstreamEvents, UpstreamEvents>();

  constructor(private readonly options: CseHttpClientOptions) {
    const url = new URL(options.endpoint);
    this.origin = url.origin;
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    const { resilience, cache, shared } = options;
    this.cache = new UpstreamAnswerCache({ maxEntries: cache.maxEntries, maxBytes: cache.maxBytes });
    this.gate = new CredentialGate(options.credentials);
    const breakers = new BreakerBoard({
      engineFailures: resilience.engineBreakerFailures,
      upstreamFailures: resilience.upstreamBreakerFailures,
      openMs: resilience.breakerOpenMs,
    });
    const { maxInFlight: inFlight, maxQueue: queue, perEngine, perCaller } = resilience;
    const reportInFlight = (count: number) => options.events?.inFlight?.(count);
    const limiter = new InFlightLimiter({ inFlight, queue, perEngine, perCaller }, reportInFlight);
    const attempt = compose(
      [breakers.checkStage(), limiter.stage(), breakers.stage()],
      exchangeStage({
        dispatcher: options.dispatcher,
        origin: this.origin,
        attemptTimeoutMs: resilience.attemptTimeoutMs,
        maxBodyBytes: resilience.maxResponseBytes,
        keepText: shared !== undefined,
      }),
    );
    const { retries, retryBaseMs } = resilience;
    const retry = retryStage({ retries, retryBaseMs, random: options.random ?? Math.random });
    const fleet = shared === undefined ? undefined : secondLevelStage(shared.answers, cache.ttls, this.gate);
    this.handle = compose(
      [
        this.gate.refusalStage(),
        cacheStage(this.cache, cache.ttls, this.gate, fleet?.fromSecondLevel),
        singleFlightStage(new SingleFlight<UpstreamAnswer>()),
        // Breakers, in-flight limits and the credential gate's probes stay per replica (docs/replicas.md).
        ...(fleet === undefined ? [] : [fleet.stage]),
        this.gate.stage(shared?.answers),
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
      events: this.sinkOf(request.events),
      signal: request.signal,
    });
  }

  private sinkOf(operation: UpstreamEvents | undefined): UpstreamEvents {
    if (operation === undefined) return this.options.events ?? {};
    let both = this.sinks.get(operation);
    if (both === undefined) this.sinks.set(operation, (both = fanOutEvents(this.options.events, operation)));
    return both;
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
