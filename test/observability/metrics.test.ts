import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { ErrorCode, RequestErrorCode } from '../../src/errors/codes';
import { UPSTREAM_FAILURE_STATUSES, UPSTREAM_ROUTES } from '../../src/observability/events';
import { createMetrics, packageVersion, SOCKET_REFUSALS, SUBSCRIBE_REFUSALS, type GatewayMetrics } from '../../src/observability/metrics';

/** The value of one series, found by name and exact labels, from the registry's JSON. */
async function value(metrics: GatewayMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const sample = metric?.values.find(
    (v) => Object.keys(labels).length === Object.keys(v.labels).filter((k) => k !== 'le').length && Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  );
  return sample?.value;
}

/** Every label value of every series in the registry. */
async function labelValues(metrics: GatewayMetrics): Promise<string[]> {
  return (await metrics.registry.getMetricsAsJSON()).flatMap((m) => m.values.flatMap((v) => Object.values(v.labels).map(String)));
}

describe('createMetrics: the upstream event sink', () => {
  let metrics: GatewayMetrics;
  beforeEach(() => {
    metrics = createMetrics({ maxOperationNames: 3, processMetrics: false });
  });

  it('counts upstream attempts and their duration by route template and status ("none" without an answer)', async () => {
    const events = metrics.events;
    events.attempt!({ route: 'listJobs', status: 200, durationMs: 12, outcome: 'ok', attempt: 0 });
    events.attempt!({ route: 'listJobs', status: 200, durationMs: 30, outcome: 'ok', attempt: 0 });
    events.attempt!({ route: 'getJob', status: 400, durationMs: 5, outcome: 'not-found', attempt: 0 });
    events.attempt!({ route: 'getEngine', status: undefined, durationMs: 5000, outcome: 'error', attempt: 1 });
    expect(await value(metrics, 'gateway_upstream_requests_total', { route: 'listJobs', status: '200' })).toBe(2);
    expect(await value(metrics, 'gateway_upstream_requests_total', { route: 'getJob', status: '400' })).toBe(1);
    expect(await value(metrics, 'gateway_upstream_requests_total', { route: 'getEngine', status: 'none' })).toBe(1);
    const text = await metrics.registry.metrics();
    const sum = /^gateway_upstream_request_duration_seconds_sum\{route="listJobs",status="200"\} (\S+)$/m.exec(text)?.[1];
    expect(Number(sum)).toBeCloseTo(0.042);
  });

  it('labels any status the upstream documents by itself, and any other by its class: a closed set', async () => {
    const statuses = Array.from({ length: 1100 }, (_, i) => i);
    for (const status of statuses) metrics.events.attempt!({ route: 'getJob', status, durationMs: 1, outcome: 'error', attempt: 0 });
    const labels = new Set((await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'gateway_upstream_requests_total')!.values.map((v) => v.labels.status));
    expect([...labels].sort()).toEqual(['1xx', '200', '2xx', '3xx', '400', '401', '403', '404', '429', '4xx', '500', '502', '503', '504', '5xx', 'none', 'other']);
    expect(await value(metrics, 'gateway_upstream_requests_total', { route: 'getJob', status: '4xx' })).toBe(100 - 5);
  });

  it.each([
    ['cache hits', (m: GatewayMetrics) => m.events.cache!({ route: 'getJob', hit: true }), 'gateway_upstream_cache_hits_total', { route: 'getJob' }],
    ['cache misses', (m: GatewayMetrics) => m.events.cache!({ route: 'getJob', hit: false }), 'gateway_upstream_cache_misses_total', { route: 'getJob' }],
    ['calls that joined one in flight', (m: GatewayMetrics) => m.events.joined!({ route: 'listEngines' }), 'gateway_upstream_coalesced_total', { route: 'listEngines' }],
    ['shed calls', (m: GatewayMetrics) => m.events.shed!({ route: 'listJobs' }), 'gateway_upstream_shed_total', { route: 'listJobs' }],
  ] as const)('counts %s by route', async (_what, emit, name, labels) => {
    emit(metrics);
    emit(metrics);
    expect(await value(metrics, name, labels)).toBe(2);
  });

  it('shows upstream requests in flight as a gauge', async () => {
    metrics.events.inFlight!(7);
    metrics.events.inFlight!(3);
    expect(await value(metrics, 'gateway_upstream_in_flight')).toBe(3);
  });

  it('shows the whole-upstream breaker state (closed from the start) and counts every transition by scope', async () => {
    expect(await value(metrics, 'gateway_upstream_breaker_state', { scope: 'upstream' })).toBe(0);
    metrics.events.breaker!({ scope: 'upstream', state: 'open' });
    expect(await value(metrics, 'gateway_upstream_breaker_state', { scope: 'upstream' })).toBe(2);
    metrics.events.breaker!({ scope: 'upstream', state: 'half-open' });
    expect(await value(metrics, 'gateway_upstream_breaker_state', { scope: 'upstream' })).toBe(1);
    metrics.events.breaker!({ scope: 'engine', state: 'open' });
    metrics.events.breaker!({ scope: 'engine', state: 'open' });
    expect(await value(metrics, 'gateway_upstream_breaker_state', { scope: 'upstream' })).toBe(1);
    expect(await value(metrics, 'gateway_upstream_breaker_transitions_total', { scope: 'engine', state: 'open' })).toBe(2);
    expect(await value(metrics, 'gateway_upstream_breaker_transitions_total', { scope: 'upstream', state: 'open' })).toBe(1);
  });
});

describe('createMetrics: operations and batches', () => {
  it('counts operations by name and outcome, and collapses names past the bound into "(other)"', async () => {
    const metrics = createMetrics({ maxOperationNames: 2, processMetrics: false });
    const observe = (name: string | null, outcome: 'success' | 'error' = 'success', resolved = true) =>
      metrics.observeOperation({ operationName: name, resolved, nameVouched: true }, outcome, 20);
    observe('Dashboard');
    observe('Dashboard');
    observe('Dashboard', 'error');
    observe('JobDetails');
    for (let i = 0; i < 50; i += 1) observe(`Invented${i}`);
    observe(null);
    observe('Anything', 'error', false);
    expect(await value(metrics, 'gateway_operations_total', { operation: 'Dashboard', outcome: 'success' })).toBe(2);
    expect(await value(metrics, 'gateway_operations_total', { operation: 'Dashboard', outcome: 'error' })).toBe(1);
    expect(await value(metrics, 'gateway_operations_total', { operation: 'JobDetails', outcome: 'success' })).toBe(1);
    expect(await value(metrics, 'gateway_operations_total', { operation: '(other)', outcome: 'success' })).toBe(50);
    expect(await value(metrics, 'gateway_operations_total', { operation: '(anonymous)', outcome: 'success' })).toBe(1);
    expect(await value(metrics, 'gateway_operations_total', { operation: '(unresolved)', outcome: 'error' })).toBe(1);
    const operationLabels = new Set(
      (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'gateway_operations_total')!.values.map((v) => v.labels.operation),
    );
    expect(operationLabels).toEqual(new Set(['Dashboard', 'JobDetails', '(other)', '(anonymous)', '(unresolved)']));
    const text = await metrics.registry.metrics();
    expect(text).toContain('gateway_operation_duration_seconds_bucket{le="0.025",operation="Dashboard",outcome="success"} 2');
  });

  it('records DataLoader batch sizes by loader', async () => {
    const metrics = createMetrics({ maxOperationNames: 2, processMetrics: false });
    metrics.observeBatch('engine', 1);
    metrics.observeBatch('engine', 7);
    const text = await metrics.registry.metrics();
    expect(text).toContain('gateway_dataloader_batch_size_count{loader="engine"} 2');
    expect(text).toContain('gateway_dataloader_batch_size_sum{loader="engine"} 8');
    expect(text).toContain('gateway_dataloader_batch_size_bucket{le="5",loader="engine"} 1');
  });

  it('scrapes what prom-client itself shows for the same observations (series kept in plain numbers)', async () => {
    const loaders = fc.constantFrom('engine', 'job', 'jobs');
    const sizes = fc.oneof(fc.integer({ min: 0, max: 120 }), fc.double({ min: 0, max: 200, noNaN: true }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(loaders, sizes), { maxLength: 40 }), async (batches) => {
        const metrics = createMetrics({ maxOperationNames: 2, processMetrics: false });
        const reference = new Histogram({
          name: 'gateway_dataloader_batch_size',
          help: 'Keys per DataLoader batch, by loader.',
          buckets: [1, 2, 3, 5, 10, 20, 50, 100],
          labelNames: ['loader'],
          registers: [new Registry()],
        });
        for (const [loader, size] of batches) {
          metrics.observeBatch(loader, size);
          reference.observe({ loader }, size);
        }
        const ours = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'gateway_dataloader_batch_size');
        expect(ours).toEqual(await reference.get());
      }),
      { numRuns: 50 },
    );
  });

  it('keeps each gateway on its own registry, with the default Node process metrics', async () => {
    const one = createMetrics({ maxOperationNames: 2 });
    const two = createMetrics({ maxOperationNames: 2 });
    one.events.attempt!({ route: 'listEngines', status: 200, durationMs: 1, outcome: 'ok', attempt: 0 });
    expect(await value(one, 'gateway_upstream_requests_total', { route: 'listEngines', status: '200' })).toBe(1);
    expect(await value(two, 'gateway_upstream_requests_total', { route: 'listEngines', status: '200' })).toBeUndefined();
    const text = await two.registry.metrics();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('nodejs_heap_size_used_bytes');
  });

  it('uses only label values from closed sets', async () => {
    const metrics = createMetrics({ maxOperationNames: 1, processMetrics: false });
    metrics.events.attempt!({ route: 'getJob', status: 200, durationMs: 1, outcome: 'ok', attempt: 0 });
    metrics.observeOperation({ operationName: 'engine_8f7e/../jobs', resolved: true, nameVouched: true }, 'success', 1);
    // Series present from the start (at 0): the subscription fields.
    const allowed = new Set([
      ...['getJob', '200', '(other)', 'success', 'upstream', 'jobUpdated', 'engineJobEvents'],
      // Series present at 0 from the start: every code, route, breaker scope and state; the build's labels.
      ...Object.values(ErrorCode),
      ...Object.values(RequestErrorCode),
      ...['listEngines', 'getEngine', 'listJobs', 'engine', 'closed', 'half-open', 'open'],
      // And every refusal reason, and every route's failed attempts.
      ...SUBSCRIBE_REFUSALS,
      ...SOCKET_REFUSALS,
      ...UPSTREAM_FAILURE_STATUSES,
      packageVersion(),
      process.versions.node,
    ]);
    for (const label of await labelValues(metrics)) {
      if (!/^[\d.+Inf]+$/.test(label)) expect(allowed).toContain(label);
    }
  });

  it('exports the build (version, Node.js version), errors by code, and failure series at 0 from the start', async () => {
    const metrics = createMetrics({ maxOperationNames: 5, processMetrics: false });
    const version = JSON.parse(require('node:fs').readFileSync(require('node:path').join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
    expect(await value(metrics, 'gateway_build_info', { version, node_version: process.versions.node })).toBe(1);
    for (const code of ['UNAUTHENTICATED', 'UPSTREAM_UNAVAILABLE', 'QUERY_TOO_COMPLEX', 'GRAPHQL_VALIDATION_FAILED']) {
      expect(await value(metrics, 'gateway_errors_total', { code })).toBe(0);
    }
    expect(await value(metrics, 'gateway_upstream_shed_total', { route: 'listJobs' })).toBe(0);
    expect(await value(metrics, 'gateway_upstream_breaker_transitions_total', { scope: 'engine', state: 'open' })).toBe(0);
    const q = { operationName: 'Q', resolved: true, nameVouched: true };
    metrics.observeOperation(q, 'partial', 1, ['UPSTREAM_TIMEOUT', 'NOT_FOUND']);
    metrics.observeOperation(q, 'error', 1, ['UPSTREAM_TIMEOUT', 'SOMETHING_ELSE']);
    expect(await value(metrics, 'gateway_errors_total', { code: 'UPSTREAM_TIMEOUT' })).toBe(2);
    expect(await value(metrics, 'gateway_errors_total', { code: 'NOT_FOUND' })).toBe(1);
    expect(await value(metrics, 'gateway_errors_total', { code: 'INTERNAL_SERVER_ERROR' })).toBe(1);
  });

  it("pre-creates every value of each refusal metric's one list of reasons, and every route's failed attempts, at 0", async () => {
    const metrics = createMetrics({ maxOperationNames: 5, processMetrics: false });
    // The lists the metrics take their label values from: a reason added there is pre-created with it.
    expect(SOCKET_REFUSALS).toEqual(expect.arrayContaining(['socket_limit', 'address_limit', 'slow_consumer', 'idle', 'origin']));
    expect(SUBSCRIBE_REFUSALS).toEqual(expect.arrayContaining(['connection_limit', 'caller_limit', 'total_limit', 'invalid']));
    for (const reason of SUBSCRIBE_REFUSALS) expect(await value(metrics, 'gateway_subscriptions_refused_total', { reason })).toBe(0);
    for (const reason of SOCKET_REFUSALS) expect(await value(metrics, 'gateway_subscription_sockets_refused_total', { reason })).toBe(0);
    for (const route of UPSTREAM_ROUTES) {
      for (const status of UPSTREAM_FAILURE_STATUSES) expect(await value(metrics, 'gateway_upstream_requests_total', { route, status })).toBe(0);
    }
    // The first refusal is then an increase from 0, as rate() reads it.
    metrics.subscriptions.socketRefused('socket_limit');
    metrics.events.attempt!({ route: 'getJob', status: 503, durationMs: 1, outcome: 'error', attempt: 0 });
    expect(await value(metrics, 'gateway_subscription_sockets_refused_total', { reason: 'socket_limit' })).toBe(1);
    expect(await value(metrics, 'gateway_upstream_requests_total', { route: 'getJob', status: '503' })).toBe(1);
  });
});
