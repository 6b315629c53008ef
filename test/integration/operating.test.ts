import { request } from 'undici';
import { DEMO_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';

/**
 * What the people running the gateway see: request ids, one log line per operation, trace context
 * passed upstream (no OpenTelemetry SDK registered here), /metrics, /healthz and /readyz — all
 * through real HTTP against the simulator.
 */

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const ENGINES = 'query Dashboard { engines(first: 3) { totalCount nodes { id name latestJob { id status } } } }';

type LogEntry = Record<string, any>;

let h: Harness;
beforeAll(async () => {
  // A 401 injected for the demo token must not be remembered for the tests after it.
  h = await startHarness({ ...CACHES_OFF, LOG_LEVEL: 'debug', CSE_RETRIES: '0', CSE_AUTH_REJECTION_TTL_MS: '0' });
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.simulator.clearFaults();
  h.simulator.resetCalls();
});

/** Runs `send` and returns the log lines written while it ran (the gateway serves one request at a time here). */
async function logsOf<T>(send: () => Promise<T>): Promise<{ result: T; lines: LogEntry[] }> {
  const from = h.logs.length;
  const result = await send();
  return { result, lines: h.logs.slice(from).map((line) => JSON.parse(line) as LogEntry) };
}

function get(path: string, method: 'GET' | 'HEAD' | 'POST' = 'GET') {
  return request(new URL(path, h.gateway.url), { method });
}

describe('request ids', () => {
  it('keeps a valid incoming X-Request-Id, returns it, and puts it on every log line of the request', async () => {
    const { result, lines } = await logsOf(() =>
      h.gql(`query Drift($id: ID!) { engine(id: $id) { jobs(first: 20) { nodes { type status } } } }`, { id: SEED.engines.drift }, { 'x-request-id': 'edge-7f3a:42' }),
    );
    expect(result.body.errors).toBeUndefined();
    expect(result.headers['x-request-id']).toBe('edge-7f3a:42');
    // Lines from three different places: the upstream calls (debug), the unknown enum values
    // reported by the mapping layer, and the operation line.
    expect(lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['upstream call', 'graphql operation']));
    expect(lines.some((line) => line.kind !== undefined && line.value !== undefined)).toBe(true);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(line.requestId).toBe('edge-7f3a:42');
  });

  it.each([
    ['missing', undefined],
    ['too long', 'x'.repeat(129)],
    ['with unsafe characters', 'abc"; drop'],
  ])('generates one when the incoming id is %s', async (_what, incoming) => {
    const { result, lines } = await logsOf(() => h.gql('{ engines(first: 1) { totalCount } }', undefined, { 'x-request-id': incoming }));
    const id = result.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.requestId).toBe(id);
  });

  it('keeps the lines of requests served at the same time apart: each names its own request', async () => {
    const from = h.logs.length;
    const asks = ['together-a', 'together-b', 'together-c'].map((id, i) =>
      h.gql(`query Together($first: Int) { engines(first: $first) { nodes { id latestJob { id } } } }`, { first: i + 2 }, { 'x-request-id': id }),
    );
    await Promise.all(asks);
    const lines = h.logs.slice(from).map((line) => JSON.parse(line) as LogEntry);
    let total = 0;
    for (const id of ['together-a', 'together-b', 'together-c']) {
      const operation = lines.find((line) => line.msg === 'graphql operation' && line.requestId === id);
      expect(operation).toMatchObject({ operationName: 'Together', outcome: 'success' });
      // Its own upstream-call lines, no more and no fewer, than its own line counted.
      expect(operation!.upstreamCalls).toBeGreaterThan(1);
      expect(lines.filter((line) => line.msg === 'upstream call' && line.requestId === id)).toHaveLength(operation!.upstreamCalls);
      total += operation!.upstreamCalls as number;
    }
    expect(lines.filter((line) => line.msg === 'upstream call')).toHaveLength(total);
    expect(total).toBe(h.simulator.callCount());
  });

  it('gives two requests two different ids', async () => {
    const one = await h.gql('{ engines(first: 1) { totalCount } }');
    const two = await h.gql('{ engines(first: 1) { totalCount } }');
    expect(one.headers['x-request-id']).not.toBe(two.headers['x-request-id']);
  });

  it('returns the id on refused requests too (no token: refused before any upstream call)', async () => {
    const { result, lines } = await logsOf(() => h.gql('{ engines { totalCount } }', undefined, { 'x-auth-token': undefined, 'x-request-id': 'no-token-1' }));
    expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.headers['x-request-id']).toBe('no-token-1');
    expect(lines.find((line) => line.msg === 'graphql operation')).toMatchObject({
      requestId: 'no-token-1',
      operationName: null,
      upstreamCalls: 0,
      errorCodes: ['UNAUTHENTICATED'],
      outcome: 'error',
      httpStatus: 200,
    });
  });
});

describe('the operation log line', () => {
  it('says the operation name, duration, upstream calls (as the simulator counted them), error codes and outcome', async () => {
    const { result, lines } = await logsOf(() => h.gql(ENGINES));
    expect(result.body.errors).toBeUndefined();
    const operation = lines.filter((line) => line.msg === 'graphql operation');
    expect(operation).toHaveLength(1);
    expect(operation[0]).toMatchObject({
      level: 'info',
      operationName: 'Dashboard',
      operationType: 'query',
      upstreamCalls: h.simulator.callCount(),
      cacheHits: 0,
      errorCodes: [],
      outcome: 'success',
      httpStatus: 200,
    });
    expect(operation[0]!.upstreamCalls).toBeGreaterThan(0);
    expect(operation[0]!.durationMs).toBeGreaterThan(0);
  });

  it('logs each upstream call at debug level with its route template, status and duration, never its path', async () => {
    const { lines } = await logsOf(() => h.gql(`query One($id: ID!) { engine(id: $id) { id } }`, { id: SEED.engines.drift }));
    const calls = lines.filter((line) => line.msg === 'upstream call');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ level: 'debug', upstream: { route: 'getEngine', status: 200, outcome: 'ok', attempt: 0 } });
    expect(JSON.stringify(calls[0])).not.toContain(SEED.engines.drift);
  });

  it('reports partial data with the codes of the failed fields', async () => {
    h.simulator.injectFault({ route: 'getJob', status: 500, dialect: 'cse' });
    h.simulator.injectFault({ route: 'listJobs', status: 500, dialect: 'cse' });
    const { result, lines } = await logsOf(() =>
      h.gql(`query Mixed($id: ID!) { engine(id: $id) { id latestJob { id } } }`, { id: SEED.engines.drift }),
    );
    expect(errorCodes(result)).toEqual(['UPSTREAM_ERROR']);
    expect(lines.find((line) => line.msg === 'graphql operation')).toMatchObject({
      operationName: 'Mixed',
      errorCodes: ['UPSTREAM_ERROR'],
      outcome: 'partial',
    });
  });

  it('reports requests that never resolved: a syntax error', async () => {
    const { lines } = await logsOf(() => h.gql('query Broken { engines('));
    expect(lines.find((line) => line.msg === 'graphql operation')).toMatchObject({
      operationName: null,
      errorCodes: ['GRAPHQL_PARSE_FAILED'],
      outcome: 'error',
      httpStatus: 200,
      upstreamCalls: 0,
    });
  });

  it('counts cache hits when the response cache answers', async () => {
    const withCache = await startHarness({ LOG_LEVEL: 'info' });
    try {
      await withCache.gql(`query Warm($id: ID!) { engine(id: $id) { id name } }`, { id: SEED.engines.drift });
      const from = withCache.logs.length;
      const calls = withCache.simulator.callCount();
      // Another operation (the same one again would be answered whole by the result cache,
      // without an upstream cache lookup) over the same engine details.
      await withCache.gql(`query Cached($id: ID!) { engine(id: $id) { id name status } }`, { id: SEED.engines.drift });
      const line = withCache.logs.slice(from).map((text) => JSON.parse(text)).find((entry) => entry.msg === 'graphql operation');
      expect(withCache.simulator.callCount()).toBe(calls);
      expect(line).toMatchObject({ operationName: 'Cached', upstreamCalls: 0, cacheHits: 1, outcome: 'success' });
    } finally {
      await withCache.close();
    }
  });

  it('never writes a token, an Authorization header or a cookie, at debug level and on every path', async () => {
    const secret = 'cookie-secret-abcdefghijklmnop';
    const refused = 'refused-token-abcdefghijklmnop';
    await h.gql(ENGINES, undefined, { cookie: `session=${secret}` });
    await h.gql(ENGINES, undefined, { 'x-auth-token': undefined, authorization: `Bearer ${refused}` });
    await h.gql(ENGINES, undefined, { 'x-auth-token': undefined, authorization: `Basic ${refused}` });
    h.simulator.injectFault({ route: 'listEngines', status: 401, dialect: 'apig', times: 1 });
    await h.gql(ENGINES);
    await h.gql('query Broken {', undefined, { cookie: secret });
    const all = h.logs.join('\n');
    expect(all).toContain('graphql operation');
    for (const value of [DEMO_TOKEN, refused, secret]) expect(all).not.toContain(value);
  });
});

describe('trace context (no OpenTelemetry SDK registered)', () => {
  it('passes a valid incoming traceparent and tracestate to every upstream call, verbatim', async () => {
    await h.gql(ENGINES, undefined, { traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
    expect(h.simulator.calls.length).toBeGreaterThan(1);
    for (const call of h.simulator.calls) expect(call.headers.traceparent).toBe(TRACEPARENT);
  });

  it('puts trace_id and span_id on the operation line when the caller sent a trace, and none otherwise', async () => {
    const logged = h.logs.length;
    await h.gql(ENGINES, undefined, { traceparent: TRACEPARENT, 'x-request-id': 'traced-1' });
    await h.gql(ENGINES, undefined, { 'x-request-id': 'untraced-1' });
    const lines = h.logs.slice(logged).map((line) => JSON.parse(line)).filter((line) => line.msg === 'graphql operation');
    const [, traceId, spanId] = TRACEPARENT.split('-');
    expect(lines.find((line) => line.requestId === 'traced-1')).toMatchObject({ trace_id: traceId, span_id: spanId });
    const untraced = lines.find((line) => line.requestId === 'untraced-1');
    expect(untraced).toBeDefined();
    expect(untraced.trace_id).toBeUndefined();
    expect(untraced.span_id).toBeUndefined();
  });

  it('sends a traceparent of a later version on as version 00, without its trailing part', async () => {
    const later = `01-${TRACEPARENT.slice(3, -3)}-01-${'x'.repeat(400)}`;
    await h.gql(ENGINES, undefined, { traceparent: later, tracestate: 'vendor=abc' });
    expect(h.simulator.calls.length).toBeGreaterThan(0);
    for (const call of h.simulator.calls) expect(call.headers.traceparent).toBe(`00-${TRACEPARENT.slice(3, -3)}-01`);
  });

  it.each([
    ['no traceparent', {}],
    ['a malformed traceparent', { traceparent: 'not-a-trace', tracestate: 'vendor=abc' }],
  ])('sends none when the caller sent %s', async (_what, headers: Record<string, string>) => {
    await h.gql(ENGINES, undefined, headers);
    expect(h.simulator.calls.length).toBeGreaterThan(0);
    for (const call of h.simulator.calls) expect(call.headers.traceparent).toBeUndefined();
  });
});

describe('/metrics', () => {
  it('serves Prometheus text with operations, upstream calls by route template and status, batch sizes and process metrics', async () => {
    await h.gql(ENGINES);
    await h.gql(`query One($id: ID!) { engine(id: $id) { id } }`, { id: SEED.engines.drift });
    const response = await get('/metrics');
    const text = await response.body.text();
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toMatch(/^gateway_operations_total\{operation="Dashboard",outcome="success"\} [1-9]/m);
    expect(text).toMatch(/^gateway_operation_duration_seconds_count\{operation="One",outcome="success"\} [1-9]/m);
    expect(text).toMatch(/^gateway_upstream_requests_total\{route="listEngines",status="200"\} [1-9]/m);
    expect(text).toMatch(/^gateway_upstream_request_duration_seconds_count\{route="getEngine",status="200"\} [1-9]/m);
    expect(text).toMatch(/^gateway_dataloader_batch_size_count\{loader="enginePage"\} [1-9]/m);
    expect(text).toMatch(/^gateway_upstream_in_flight 0$/m);
    expect(text).toMatch(/^gateway_upstream_breaker_state\{scope="upstream"\} 0$/m);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('counts exactly the upstream calls the simulator received, by route', async () => {
    const before = await metricValue('gateway_upstream_requests_total{route="getEngine",status="200"}');
    h.simulator.resetCalls();
    await h.gql(`query Three { a: engine(id: "${SEED.engines.drift}") { id } b: engine(id: "${SEED.engines.empty}") { id } }`);
    const after = await metricValue('gateway_upstream_requests_total{route="getEngine",status="200"}');
    expect(after - before).toBe(h.simulator.callCount({ route: 'getEngine' }));
    expect(await metricValue('gateway_dataloader_batch_size_bucket{le="2",loader="engine"}')).toBeGreaterThan(0);
  });

  it('never puts an engine id, a project id or a token in a label', async () => {
    await h.gql(`query Ids($id: ID!) { engine(id: $id) { id jobs(first: 2) { nodes { id } } } }`, { id: SEED.engines.drift });
    const text = await (await get('/metrics')).body.text();
    for (const value of [...Object.values(SEED.engines), DEMO_TOKEN, h.config.upstream.projectId!]) expect(text).not.toContain(value);
  });

  async function metricValue(series: string): Promise<number> {
    const text = await (await get('/metrics')).body.text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? 0 : Number(line.slice(series.length + 1));
  }
});

describe('/healthz and /readyz', () => {
  it('answers alive and ready while serving, with the request id header', async () => {
    const health = await get('/healthz');
    expect(health.statusCode).toBe(200);
    expect(await health.body.json()).toEqual({ status: 'ok' });
    expect(health.headers['x-request-id']).toBeDefined();
    const ready = await get('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(await ready.body.json()).toEqual({ ready: true });
  });

  it('writes no operation line for probes, scrapes and CORS preflights', async () => {
    const { lines } = await logsOf(async () => {
      for (const path of ['/healthz', '/readyz', '/metrics']) await (await get(path)).body.dump();
      const preflight = await request(h.gateway.url, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
      });
      await preflight.body.dump();
    });
    expect(lines.filter((line) => line.msg === 'graphql operation')).toEqual([]);
  });

  it.each(['/healthz', '/readyz', '/metrics'])('%s allows GET and HEAD only', async (path) => {
    const head = await get(path, 'HEAD');
    await head.body.dump();
    expect(head.statusCode).toBe(200);
    const post = await get(path, 'POST');
    await post.body.dump();
    expect(post.statusCode).toBe(405);
  });
});

describe('readiness follows the whole-upstream circuit breaker', () => {
  let b: Harness;
  beforeAll(async () => {
    b = await startHarness({ ...CACHES_OFF, CSE_RETRIES: '0', CSE_UPSTREAM_BREAKER_FAILURES: '2', CSE_BREAKER_OPEN_MS: '200' });
  });
  afterAll(async () => {
    await b.close();
  });

  it('is not ready while the breaker is open, and ready again once a probe succeeded', async () => {
    const readyz = async () => {
      const response = await request(new URL('/readyz', b.gateway.url));
      return { status: response.statusCode, body: await response.body.json() };
    };
    expect(await readyz()).toEqual({ status: 200, body: { ready: true } });
    // Dropped connections are transport failures: two of them open the whole-upstream breaker.
    const drop = b.simulator.injectFault({ route: 'listEngines', destroy: true });
    await b.gql('{ engines(first: 1) { totalCount } }');
    await b.gql('{ engines(first: 1) { totalCount } }');
    expect(await readyz()).toEqual({ status: 503, body: { ready: false, reason: 'upstream-breaker-open' } });
    const metrics = await (await request(new URL('/metrics', b.gateway.url))).body.text();
    expect(metrics).toMatch(/^gateway_upstream_breaker_state\{scope="upstream"\} 2$/m);

    drop();
    await new Promise((resolve) => setTimeout(resolve, 250)); // CSE_BREAKER_OPEN_MS passes
    const probe = await b.gql('{ engines(first: 1) { totalCount } }');
    expect(probe.body.errors).toBeUndefined();
    expect(await readyz()).toEqual({ status: 200, body: { ready: true } });
  });
});

describe('METRICS_PORT', () => {
  let separate: Harness;
  beforeAll(async () => {
    separate = await startHarness({ METRICS_PORT: '0' });
  });
  afterAll(() => separate.close());

  it('shows the failure series the alerts rate() at 0 before the first failure', async () => {
    const text = await (await request(separate.gateway.metricsUrl!)).body.text();
    for (const series of [
      'gateway_subscriptions_refused_total{reason="connection_limit"} 0',
      'gateway_subscriptions_refused_total{reason="total_limit"} 0',
      'gateway_subscription_sockets_refused_total{reason="socket_limit"} 0',
      'gateway_subscription_sockets_refused_total{reason="address_limit"} 0',
      'gateway_subscription_sockets_refused_total{reason="slow_consumer"} 0',
      'gateway_upstream_requests_total{route="listJobs",status="503"} 0',
      'gateway_upstream_requests_total{route="getJob",status="none"} 0',
    ]) {
      expect(text.split('\n')).toContain(series);
    }
  });

  it('serves /metrics on its own listener only, and nothing else there', async () => {
    const metricsUrl = separate.gateway.metricsUrl!;
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(metricsUrl).port).not.toBe(new URL(separate.gateway.url).port);
    // An operation that calls the upstream: only then is its name vouched for (see operationLabels.test).
    await separate.gql('query Counted { engines(first: 1) { totalCount } }');
    const scraped = await request(metricsUrl);
    expect(scraped.statusCode).toBe(200);
    expect(await scraped.body.text()).toMatch(/gateway_operations_total\{operation="Counted",outcome="success"\} 1/);
    const onMain = await request(separate.gateway.url.replace('/graphql', '/metrics'));
    expect(onMain.statusCode).toBe(404);
    await onMain.body.dump();
    const other = await request(metricsUrl.replace('/metrics', '/graphql'));
    expect(other.statusCode).toBe(404);
    await other.body.dump();
    // The probes stay on the main port.
    expect((await request(separate.gateway.url.replace('/graphql', '/readyz'))).statusCode).toBe(200);
  });
});
