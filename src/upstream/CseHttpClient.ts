import type { Dispatcher } from 'undici';
import { callerDigest, credentialDigest, scopeKey } from '../cache/scopeKey';
import type { SecondLevel } from '../cache/secondLevel';
import { SingleFlight } from '../cache/SingleFlight';
import { CallerShareCache } from '../cache/CallerShareCache';
import type { GatewayConfig } from '../config/loadConfig';
import { fanOutEvents, type Route, type UpstreamEvents } from '../observability/events';
import { CredentialGate } from './CredentialGate';
import type { Credentials } from './credentials';
import { exchangeStage } from './exchange';
import { BreakerBoard } from './resilience/BreakerBoard';
import { InFlightLimiter } from './resilience/InFlightLimiter';
import { cacheStage, secondLevelStage, singleFlightStage, type CachedAnswer } from './stages/cacheStage';
import { retryStage } from './stages/retryStage';
import { compose, type AnswerRoom, type CallHandler, type UpstreamAnswer, type UpstreamRequestContext } from './stages/types';

export interface UpstreamCall {
  route: Route;
  path: string;
  /** `?` and the parameters: integers, with nothing to encode. */
  query?: string;
  engineId?: string;
  /** Room its operation holds for the answer. */
  room?: AnswerRoom;
}

export interface CseHttpClientOptions {
  /** Scheme, host and an optional path prefix. */
  readonly endpoint: string;
  readonly dispatcher: Dispatcher;
  /** The process-wide event sink (metrics); each operation may add its own. */
  readonly events: UpstreamEvents | undefined;
  readonly resilience: GatewayConfig['upstream']['resilience'];
  readonly cache: Pick<GatewayConfig['cache'], 'ttls' | 'maxEntries' | 'maxBytes'>;
  readonly credentials: GatewayConfig['upstream']['credentials'];
  readonly random?: () => number;
  /** With REDIS_URL: the answers this replica shares with the others (docs/replicas.md). */
  readonly secondLevel?: SecondLevel<UpstreamAnswer>;
}

/** "Not found" is an answer (most fields make it `null`); every failure leaves as a GatewayError. */
export class CseHttpClient {
  private readonly origin: string;
  private readonly pathPrefix: string;
  private readonly cache: CallerShareCache<CachedAnswer>;
  private readonly gate: CredentialGate;
  private readonly handle: CallHandler;
  /** An operation's sink → it and the process's together, made once per operation. */
  private readonly sinks = new WeakMap<UpstreamEvents, UpstreamEvents>();

  constructor(private readonly options: CseHttpClientOptions) {
    const url = new URL(options.endpoint);
    this.origin = url.origin;
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    const { resilience, cache, secondLevel, dispatcher } = options;
    // One answer may not take more than a quarter of the cache: it would evict most others.
    this.cache = new CallerShareCache({ maxEntries: cache.maxEntries, maxBytes: cache.maxBytes, maxEntryBytes: cache.maxBytes / 4 });
    this.gate = new CredentialGate(options.credentials);
    secondLevel?.onForget((digest) => this.gate.refusedElsewhere(digest));
    const breakers = new BreakerBoard(resilience);
    const { maxInFlight: inFlight, maxQueue: queue, perEngine, perCaller, strangers } = resilience;
    const reportInFlight = (count: number) => options.events?.inFlight?.(count);
    const limiter = new InFlightLimiter({ inFlight, queue, perEngine, perCaller, strangers }, reportInFlight);
    const attempt = compose(
      [breakers.checkStage(), limiter.stage(), breakers.stage()],
      exchangeStage({ ...resilience, dispatcher, origin: this.origin, keepText: secondLevel !== undefined }),
    );
    const retry = retryStage({ ...resilience, random: options.random ?? Math.random });
    const fleet = secondLevel === undefined ? undefined : secondLevelStage(secondLevel, cache.ttls, this.gate);
    this.handle = compose(
      [
        this.gate.refusalStage(),
        cacheStage(this.cache, cache.ttls, this.gate, fleet?.fromSecondLevel),
        (next) => async (call) => {
          call.request.beforeCall?.();
          return next(call);
        },
        singleFlightStage(new SingleFlight<UpstreamAnswer>()),
        // Breakers, in-flight limits and the credential gate's probes stay per replica (docs/replicas.md).
        ...(fleet === undefined ? [] : [fleet.stage]),
        this.gate.stage(secondLevel),
      ],
      retry(attempt),
    );
  }

  get cacheStats() {
    return this.cache.stats;
  }

  cacheGenerationFor(credentials: Credentials): number | undefined {
    return this.gate.generation(credentialDigest(credentials));
  }

  /** Told the credential digest of a scope the upstream has just accepted (see isStranger). */
  onAccepted(listener: (digest: string) => void): void {
    this.gate.onAccepted(listener);
  }

  isStranger(credentials: Credentials): boolean {
    return this.gate.stranger(credentialDigest(credentials));
  }

  get(call: UpstreamCall, request: UpstreamRequestContext): Promise<UpstreamAnswer> {
    const path = this.pathPrefix + call.path + (call.query ?? '');
    const { credentials, signal } = request;
    const engineKey = call.engineId === undefined ? undefined : `${credentials.projectId}/${call.engineId}`;
    const digest = credentialDigest(credentials);
    const caller = callerDigest(credentials);
    const key = scopeKey(credentials, this.origin + path);
    const events = this.sinkOf(request.events);
    const { route, room } = call;
    return this.handle({ route, path, engineKey, request, digest, caller, key, events, signal, room });
  }

  private sinkOf(operation: UpstreamEvents | undefined): UpstreamEvents {
    if (operation === undefined) return this.options.events ?? {};
    let both = this.sinks.get(operation);
    if (both === undefined) this.sinks.set(operation, (both = fanOutEvents(this.options.events, operation)));
    return both;
  }
}
