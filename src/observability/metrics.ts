import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { statusLabel, UPSTREAM_FAILURE_STATUSES, UPSTREAM_ROUTES, type UpstreamEvents } from './events';
import { ErrorCode, isPublicErrorCode, RequestErrorCode } from '../errors/codes';
import { createOperationLabeler } from './operationLabel';
import type { OperationFacts } from './OperationFacts';

/** `cached`: a stored answer served again; `coalesced`: the answer of an identical request in flight. */
export type OperationOutcome = 'success' | 'partial' | 'error' | 'aborted' | 'cached' | 'coalesced';

export const SUBSCRIPTION_FIELDS = ['jobUpdated', 'engineJobEvents'] as const;
export type SubscriptionField = (typeof SUBSCRIPTION_FIELDS)[number];
/** The `reason` label's values: each one's series exists at 0 from the start. */
export const SUBSCRIBE_REFUSALS = ['connection_limit', 'caller_limit', 'total_limit', 'invalid'] as const;
type SubscribeRefusal = (typeof SUBSCRIBE_REFUSALS)[number];
/** The `reason` label's values: each one's series exists at 0 from the start. */
export const SOCKET_REFUSALS = [
  'origin',
  'path',
  'unauthenticated',
  'bad_request',
  'shutting_down',
  'slow_consumer',
  'socket_limit',
  'address_limit',
  'caller_limit',
  'upstream_unavailable',
  'idle',
] as const;
export type SocketRefusal = (typeof SOCKET_REFUSALS)[number];

export type GatewayMetrics = ReturnType<typeof createMetrics>;
export type SubscriptionMetrics = GatewayMetrics['subscriptions'];

/** In order of how much traffic each lets through. */
const BREAKER_STATE_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

type Series = { readonly labels: Record<string, string>; count: number; sum: number; readonly buckets: number[] };

/** Series as plain numbers by (at most two) label values, read at scrape: no request pays label hashing. */
function tally(labelNames: readonly string[], bounds: readonly number[] = []) {
  const series = new Map<string, Series>();
  const at = (a = '', b = ''): Series => {
    const key = `${a}\0${b}`;
    let found = series.get(key);
    if (found === undefined) {
      const labels = Object.fromEntries(labelNames.map((name, i) => [name, i === 0 ? a : b]));
      found = { labels, count: 0, sum: 0, buckets: bounds.map(() => 0) };
      series.set(key, found);
    }
    return found;
  };
  // An unlabelled series is shown from the first scrape, as prom-client shows it.
  if (labelNames.length === 0) at();
  return { series, at };
}

/** Labels come only from closed sets or the bounded operation labeller: series cannot grow with traffic. */
export function createMetrics(options: { maxOperationNames: number; processMetrics?: boolean }) {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const label = createOperationLabeler(options.maxOperationNames);

  const counter = (name: string, help: string, labelNames: readonly string[] = []) => {
    const { series, at } = tally(labelNames);
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const { labels, count } of series.values()) this.inc(labels, count);
      },
    });
    return (a?: string, b?: string, by = 1): void => void (at(a, b).count += by);
  };
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge({ name, help, labelNames, registers });
  const histogram = (name: string, help: string, bounds: number[], labelNames: readonly string[] = []) => {
    const { series, at } = tally(labelNames, bounds);
    new Histogram({
      name,
      help,
      buckets: bounds,
      labelNames,
      registers,
      collect() {
        // prom-client has no setter for a histogram's buckets: its series are replaced whole.
        (this as unknown as { hashMap: Record<string, unknown> }).hashMap = Object.fromEntries(
          [...series].map(([key, { labels, count, sum, buckets }]) => {
            const bucketValues = Object.fromEntries(bounds.map((bound, i) => [bound, buckets[i]]));
            return [key, { labels, count, sum, bucketValues }];
          }),
        );
      },
    });
    return (value: number, a?: string, b?: string): void => {
      const found = at(a, b);
      found.count += 1;
      found.sum += value;
      const bucket = bounds.findIndex((bound) => value <= bound);
      if (bucket >= 0) found.buckets[bucket]! += 1;
    };
  };

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
  const abandonedBranches = counter(
    'gateway_abandoned_branch_errors_total',
    'Errors of execution branches graphql-js went on with after their answer was made, left unhandled by it and let pass (docs/security.md).',
  );
  const build = gauge(
    'gateway_build_info',
    'The running build: always 1, with the version and the Node.js version as labels.',
    ['version', 'node_version'],
  );
  build.set({ version: packageVersion(), node_version: process.versions.node }, 1);
  // Failure series exist at 0 from the first scrape: rate() reads a series from nowhere as no change.
  breakerState.set({ scope: 'upstream' }, BREAKER_STATE_VALUE.closed);
  for (const code of [...Object.values(ErrorCode), ...Object.values(RequestErrorCode)]) errors(code, undefined, 0);
  for (const route of UPSTREAM_ROUTES) {
    shed(route, undefined, 0);
    for (const status of UPSTREAM_FAILURE_STATUSES) upstreamRequests(route, status, 0);
  }
  for (const scope of ['upstream', 'engine'] as const) {
    for (const state of Object.keys(BREAKER_STATE_VALUE)) breakerTransitions(scope, state, 0);
  }

  const active = gauge('gateway_subscriptions_active', 'Subscriptions open now, by field.', ['field']);
  // What SUBSCRIPTION_MAX_TOTAL compares: a subscription holding a large document or message counts several.
  const units = gauge(
    'gateway_subscription_units_active',
    'Units of SUBSCRIPTION_MAX_TOTAL the open subscriptions hold (one per 16 KiB of document and message, at least one each), by field.',
    ['field'],
  );
  for (const field of SUBSCRIPTION_FIELDS) {
    active.set({ field }, 0);
    units.set({ field }, 0);
  }
  const refused = counter(
    'gateway_subscriptions_refused_total',
    'Subscribe messages refused: past SUBSCRIPTION_MAX_PER_CONNECTION or SUBSCRIPTION_MAX_TOTAL, or an invalid operation.',
    ['reason'],
  );
  for (const reason of SUBSCRIBE_REFUSALS) refused(reason, undefined, 0);
  const sockets = gauge('gateway_subscription_sockets_active', 'WebSockets open now.');
  const socketsRefused = counter(
    'gateway_subscription_sockets_refused_total',
    'WebSockets turned away or closed by the gateway, by reason.',
    ['reason'],
  );
  for (const reason of SOCKET_REFUSALS) socketsRefused(reason, undefined, 0);
  const pollers = gauge(
    'gateway_subscription_pollers_active',
    'Upstream pollers running now: one per watched engine and credential scope.',
  );
  const polls = counter('gateway_subscription_polls_total', 'Polls of the upstream for subscriptions, by outcome.', ['outcome']);
  const pollCalls = counter('gateway_subscription_poll_calls_total', 'Upstream calls the subscription polls made.');
  const subscriptionEvents = counter('gateway_subscription_events_total', 'Subscription events sent, by field.', ['field']);
  const conflated = counter(
    'gateway_subscription_events_conflated_total',
    'Events replaced by a newer one before a slow subscriber read them.',
  );
  const delay = histogram(
    'gateway_subscription_event_delay_seconds',
    'From the poll that saw a change to its event being handed to the socket.',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );

  const events: UpstreamEvents = {
    attempt: (event) => {
      const status = statusLabel(event.status);
      upstreamRequests(event.route, status);
      upstreamDuration(event.durationMs / 1000, event.route, status);
    },
    cache: (event) => (event.hit ? cacheHits : cacheMisses)(event.route),
    joined: (event) => joined(event.route),
    shed: (event) => shed(event.route),
    inFlight: (count) => inFlight.set(count),
    breaker: (event) => {
      breakerTransitions(event.scope, event.state);
      // Engine breakers' events do not say which engine: only the whole-upstream one has a state.
      if (event.scope === 'upstream') breakerState.set({ scope: 'upstream' }, BREAKER_STATE_VALUE[event.state]);
    },
  };

  return {
    registry,
    events,
    subscriptions: {
      subscriptionStarted: (field: SubscriptionField, held: number) => {
        active.inc({ field });
        units.inc({ field }, held);
      },
      subscriptionEnded: (field: SubscriptionField, held: number) => {
        active.dec({ field });
        units.dec({ field }, held);
      },
      subscribeRefused: (reason: SubscribeRefusal) => refused(reason),
      socketOpened: () => sockets.inc(),
      socketClosed: () => sockets.dec(),
      socketRefused: (reason: SocketRefusal) => socketsRefused(reason),
      pollers: (count: number) => pollers.set(count),
      poll: (outcome: 'ok' | 'failed' | 'refused', calls: number) => {
        polls(outcome);
        pollCalls(undefined, undefined, calls);
      },
      eventSent: (field: SubscriptionField, delayMs: number | undefined) => {
        subscriptionEvents(field);
        if (delayMs !== undefined) delay(delayMs / 1000);
      },
      conflated: () => conflated(),
    },
    /** `errorCodes`: none for a reused answer. */
    observeOperation(
      facts: Pick<OperationFacts, 'operationName' | 'resolved' | 'nameVouched'>,
      outcome: OperationOutcome,
      durationMs: number,
      errorCodes: readonly string[] = [],
    ): void {
      const operation = label(facts.operationName, facts.resolved, facts.nameVouched);
      operations(operation, outcome);
      operationDuration(durationMs / 1000, operation, outcome);
      for (const code of errorCodes) errors(isPublicErrorCode(code) ? code : ErrorCode.INTERNAL_SERVER_ERROR);
    },
    observeExecution: (how: 'compiled' | 'interpreted'): void => executions(how),
    observeCompile: (durationMs: number): void => compiles(durationMs / 1000),
    observeBatch: (loader: string, size: number): void => batchSize(size, loader),
    observeWholeResponseCache: (hit: boolean): void => (hit ? wholeResponseCacheHits : wholeResponseCacheMisses)(),
    observeAbandonedBranchError: (): void => abandonedBranches(),
  };
}

/** From package.json, two levels up from src/ and dist/observability; `unknown` when unreadable. */
export function packageVersion(): string {
  try {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof version === 'string' && /^[0-9A-Za-z.+-]{1,64}$/.test(version) ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}
