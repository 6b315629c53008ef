import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { UPSTREAM_ROUTES, type UpstreamEvents } from './events';
import { ErrorCode, isPublicErrorCode, RequestErrorCode } from '../errors/codes';
import { createOperationLabeler } from './operationLabel';

/**
 * How an operation ended, as the log line and the metrics say it (`cached`: a stored answer, served
 * again; `coalesced`: the answer of an identical request that executed at the same time).
 */
export type OperationOutcome = 'success' | 'partial' | 'error' | 'aborted' | 'cached' | 'coalesced';

export interface OperationObservation {
  /** The operation's name as the caller wrote it (`null`: anonymous). */
  readonly name: string | null | undefined;
  /** Whether the document parsed and validated (only then does the name take a label slot). */
  readonly resolved: boolean;
  /** See OperationFacts.nameVouched: otherwise the name is labelled `(unverified)`. */
  readonly nameVouched: boolean;
  readonly outcome: OperationOutcome;
  readonly durationMs: number;
  /** The `extensions.code` of each error of the response (none for a reused answer). */
  readonly errorCodes?: readonly string[];
}

/** The subscription fields of the schema: the only values of the `field` label. */
export const SUBSCRIPTION_FIELDS = ['jobUpdated', 'engineJobEvents'] as const;
export type SubscriptionField = (typeof SUBSCRIPTION_FIELDS)[number];
/** Why a subscribe was refused (the `reason` label). */
type SubscribeRefusal = 'connection_limit' | 'total_limit' | 'invalid';
/** Why a WebSocket was turned away or closed by the gateway (the `reason` label). */
export type SocketRefusal = RefusedAtUpgrade | 'slow_consumer' | 'socket_limit' | 'address_limit' | 'idle';
type RefusedAtUpgrade = 'origin' | 'path' | 'unauthenticated' | 'bad_request' | 'shutting_down';

export type GatewayMetrics = ReturnType<typeof createMetrics>;
export type SubscriptionMetrics = GatewayMetrics['subscriptions'];

/** Gauge values of the breaker states, in order of how much traffic each lets through. */
const BREAKER_STATE_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * Every metric the gateway exports, on a registry of its own (several gateways in one process,
 * as in tests, never share series). Label values come only from closed sets (routes, outcomes,
 * statuses, breaker states, loader names, fields, reasons) or from the bounded operation labeller,
 * so the number of series cannot grow with traffic.
 */
export function createMetrics(options: { maxOperationNames: number; processMetrics?: boolean }) {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const label = createOperationLabeler(options.maxOperationNames);

  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter({ name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge({ name, help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []) =>
    new Histogram({ name, help, buckets, labelNames, registers });

  const operations = counter('gateway_operations_total', 'GraphQL operations served, by operation name and outcome.', [
    'operation',
    'outcome',
  ]);
  const operationDuration = histogram(
    'gateway_operation_duration_seconds',
    'Time from request to response of GraphQL operations, by operation name and outcome.',
    [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    ['operation', 'outcome'],
  );
  const upstreamRequests = counter(
    'gateway_upstream_requests_total',
    'HTTP attempts to the upstream (each retry counts), by route template and status ("none": no answer).',
    ['route', 'status'],
  );
  const upstreamDuration = histogram(
    'gateway_upstream_request_duration_seconds',
    'Duration of HTTP attempts to the upstream, by route template and status.',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ['route', 'status'],
  );
  const byRoute = (name: string, help: string) => counter(name, `${help}, by route template.`, ['route']);
  const cacheHits = byRoute('gateway_upstream_cache_hits_total', 'Upstream calls answered from the upstream answer cache');
  const cacheMisses = byRoute('gateway_upstream_cache_misses_total', 'Upstream answer cache lookups that had to call the upstream');
  const joined = byRoute('gateway_upstream_coalesced_total', 'Upstream calls that joined an identical call already in flight');
  const shed = byRoute('gateway_upstream_shed_total', 'Upstream calls refused because too many were in flight or queued');
  const inFlight = gauge('gateway_upstream_in_flight', 'Upstream requests in flight in this process.');
  const breakerState = gauge(
    'gateway_upstream_breaker_state',
    'State of the whole-upstream circuit breaker: 0 closed, 1 half-open, 2 open.',
    ['scope'],
  );
  const breakerTransitions = counter(
    'gateway_upstream_breaker_transitions_total',
    'Circuit breaker state changes, by scope (upstream, engine) and the state entered.',
    ['scope', 'state'],
  );
  const batchSize = histogram('gateway_dataloader_batch_size', 'Keys per DataLoader batch, by loader.', [1, 2, 3, 5, 10, 20, 50, 100], [
    'loader',
  ]);
  const executions = counter(
    'gateway_operation_executions_total',
    'GraphQL operations executed, by compiled plan (graphql-jit) or interpreter (graphql-js).',
    ['executor'],
  );
  const compiles = histogram(
    'gateway_operation_compile_duration_seconds',
    'Time spent compiling one plan (adaptive: off the request path, once a document shape is hot).',
    [0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
  );
  const wholeResponseCacheHits = counter(
    'gateway_response_cache_hits_total',
    'GraphQL requests answered from the whole-response cache, without execution.',
  );
  const wholeResponseCacheMisses = counter(
    'gateway_response_cache_misses_total',
    'Whole-response cache lookups that found nothing, so the operation ran.',
  );
  const errors = counter(
    'gateway_errors_total',
    'GraphQL responses with errors, by extensions.code: each code once per response (the closed set; anything else counts as INTERNAL_SERVER_ERROR).',
    ['code'],
  );
  const build = gauge(
    'gateway_build_info',
    'The running build: always 1, with the version and the Node.js version as labels.',
    ['version', 'node_version'],
  );
  const { version, nodeVersion } = buildInfo();
  build.set({ version, node_version: nodeVersion }, 1);
  // Failure series exist at 0 from the first scrape, so that rate() and increase() see their
  // first increment instead of a series appearing out of nowhere (which they read as no change).
  // A scrape right after start-up also shows a closed breaker rather than no series at all.
  breakerState.set({ scope: 'upstream' }, BREAKER_STATE_VALUE.closed);
  for (const code of [...Object.values(ErrorCode), ...Object.values(RequestErrorCode)]) errors.inc({ code }, 0);
  for (const route of UPSTREAM_ROUTES) shed.inc({ route }, 0);
  for (const scope of ['upstream', 'engine'] as const) {
    for (const state of Object.keys(BREAKER_STATE_VALUE)) breakerTransitions.inc({ scope, state }, 0);
  }

  /** The process-wide upstream event sink that feeds the upstream metrics. */
  const events: UpstreamEvents = {
    attempt: (event) => {
      const labels = { route: event.route, status: event.status === undefined ? 'none' : String(event.status) };
      upstreamRequests.inc(labels);
      upstreamDuration.observe(labels, event.durationMs / 1000);
    },
    cache: (event) => (event.hit ? cacheHits : cacheMisses).inc({ route: event.route }),
    joined: (event) => joined.inc({ route: event.route }),
    shed: (event) => shed.inc({ route: event.route }),
    inFlight: (count) => inFlight.set(count),
    breaker: (event) => {
      breakerTransitions.inc({ scope: event.scope, state: event.state });
      // Engine breakers are many and their events do not say which engine: a gauge per scope
      // would be wrong the moment two engines differ, so only the whole-upstream one has a state.
      if (event.scope === 'upstream') breakerState.set({ scope: 'upstream' }, BREAKER_STATE_VALUE[event.state]);
    },
  };

  return {
    registry,
    events,
    subscriptions: subscriptionMetrics(counter, gauge, histogram),
    observeOperation(observation: OperationObservation): void {
      const operation = label(observation.name, observation.resolved, observation.nameVouched);
      const labels = { operation, outcome: observation.outcome };
      operations.inc(labels);
      operationDuration.observe(labels, observation.durationMs / 1000);
      for (const code of observation.errorCodes ?? []) {
        errors.inc({ code: isPublicErrorCode(code) ? code : ErrorCode.INTERNAL_SERVER_ERROR });
      }
    },
    /** One operation executed, by a compiled plan or by graphql-js's interpreter. */
    observeExecution: (how: 'compiled' | 'interpreted'): void => executions.inc({ executor: how }),
    /** A compiled plan was made (and how long compiling took). */
    observeCompile: (durationMs: number): void => compiles.observe(durationMs / 1000),
    /** One DataLoader batch of `size` keys was dispatched by the loader `loader`. */
    observeBatch: (loader: string, size: number): void => batchSize.observe({ loader }, size),
    /** One lookup in the whole-response cache. */
    observeWholeResponseCache: (hit: boolean): void => (hit ? wholeResponseCacheHits : wholeResponseCacheMisses).inc(),
  };
}

type Make<M> = <L extends string>(name: string, help: string, labelNames?: readonly L[]) => M;

/** Subscriptions, their sockets and their polls. */
function subscriptionMetrics(
  counter: Make<Counter>,
  gauge: Make<Gauge>,
  histogram: (name: string, help: string, buckets: number[]) => Histogram,
) {
  const active = gauge('gateway_subscriptions_active', 'Subscriptions open now, by field.', ['field']);
  for (const field of SUBSCRIPTION_FIELDS) active.set({ field }, 0);
  const refused = counter(
    'gateway_subscriptions_refused_total',
    'Subscribe messages refused: past SUBSCRIPTION_MAX_PER_CONNECTION or SUBSCRIPTION_MAX_TOTAL, or an invalid operation.',
    ['reason'],
  );
  const sockets = gauge('gateway_subscription_sockets_active', 'WebSockets open now.');
  const socketsRefused = counter(
    'gateway_subscription_sockets_refused_total',
    'WebSockets turned away or closed by the gateway, by reason.',
    ['reason'],
  );
  const pollers = gauge(
    'gateway_subscription_pollers_active',
    'Upstream pollers running now: one per watched engine and credential scope.',
  );
  const polls = counter('gateway_subscription_polls_total', 'Polls of the upstream for subscriptions, by outcome.', ['outcome']);
  const pollCalls = counter('gateway_subscription_poll_calls_total', 'Upstream calls the subscription polls made.');
  const events = counter('gateway_subscription_events_total', 'Subscription events sent, by field.', ['field']);
  const conflated = counter(
    'gateway_subscription_events_conflated_total',
    'Events replaced by a newer one before a slow subscriber read them.',
  );
  const delay = histogram(
    'gateway_subscription_event_delay_seconds',
    'From the poll that saw a change to its event being handed to the socket.',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );
  return {
    subscriptionStarted: (field: SubscriptionField) => active.inc({ field }),
    subscriptionEnded: (field: SubscriptionField) => active.dec({ field }),
    subscribeRefused: (reason: SubscribeRefusal) => refused.inc({ reason }),
    socketOpened: () => sockets.inc(),
    socketClosed: () => sockets.dec(),
    socketRefused: (reason: SocketRefusal) => socketsRefused.inc({ reason }),
    pollers: (count: number) => pollers.set(count),
    poll: (outcome: 'ok' | 'failed' | 'refused', calls: number) => {
      polls.inc({ outcome });
      pollCalls.inc(calls);
    },
    eventSent: (field: SubscriptionField, delayMs: number | undefined) => {
      events.inc({ field });
      if (delayMs !== undefined) delay.observe(delayMs / 1000);
    },
    conflated: () => conflated.inc(),
  };
}

let packageVersion: string | undefined;

/** The package's version (package.json, two levels up from src/ and dist/observability) and Node's. */
export function buildInfo(): { readonly version: string; readonly nodeVersion: string } {
  if (packageVersion === undefined) {
    try {
      const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
      packageVersion = typeof version === 'string' && /^[0-9A-Za-z.+-]{1,64}$/.test(version) ? version : 'unknown';
    } catch {
      packageVersion = 'unknown';
    }
  }
  return { version: packageVersion, nodeVersion: process.versions.node };
}
