import { GraphQLError } from 'graphql';
import { Writable } from 'node:stream';
import { GatewayError } from '../../src/errors/GatewayError';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { OperationFacts } from '../../src/observability/OperationFacts';
import { OperationTelemetry } from '../../src/observability/OperationTelemetry';

function setUp() {
  const lines: string[] = [];
  const logger = createLogger(
    'debug',
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  const metrics = createMetrics({ maxOperationNames: 10, processMetrics: false });
  const facts = new OperationFacts();
  const telemetry = new OperationTelemetry({ requestId: 'req-7', headers: {}, logger, metrics, facts });
  return { facts, telemetry, metrics, entries: () => lines.map((line) => JSON.parse(line)) };
}

describe('OperationTelemetry', () => {
  it('writes one line per operation with its upstream calls, cache hits, error codes and outcome', async () => {
    const { facts, telemetry, metrics, entries } = setUp();
    facts.operationResolved('Dashboard', 'query');
    // What the upstream layer reports into the operation's own sink while it resolves.
    telemetry.events.cache!({ route: 'getEngine', hit: true });
    telemetry.events.cache!({ route: 'getEngine', hit: true });
    telemetry.events.cache!({ route: 'listJobs', hit: false });
    telemetry.events.attempt!({ route: 'listJobs', status: 503, durationMs: 3.14159, outcome: 'error', attempt: 0 });
    telemetry.events.attempt!({ route: 'listJobs', status: 200, durationMs: 8, outcome: 'ok', attempt: 1 });
    facts.recordErrors([
      new GatewayError('UPSTREAM_ERROR', 'x'),
      new GatewayError('UPSTREAM_ERROR', 'y'),
      new Error('a bug'),
      new GraphQLError('parse', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } }),
    ]);
    facts.recordResponse(true);
    telemetry.finish({ httpStatus: 200, aborted: false });
    telemetry.finish({ httpStatus: 200, aborted: false }); // a second call changes nothing

    const lines = entries();
    const upstream = lines.filter((line) => line.msg === 'upstream call');
    expect(upstream.map((line) => line.upstream)).toEqual([
      { route: 'listJobs', status: 503, durationMs: 3.1, outcome: 'error', attempt: 0 },
      { route: 'listJobs', status: 200, durationMs: 8, outcome: 'ok', attempt: 1 },
    ]);
    expect(upstream.every((line) => line.level === 'debug')).toBe(true);
    const operations = lines.filter((line) => line.msg === 'graphql operation');
    expect(operations).toHaveLength(1);
    expect(operations[0]).toMatchObject({
      level: 'info',
      requestId: 'req-7',
      operationName: 'Dashboard',
      operationType: 'query',
      upstreamCalls: 2,
      cacheHits: 2,
      errorCodes: ['UPSTREAM_ERROR', 'INTERNAL_SERVER_ERROR', 'GRAPHQL_PARSE_FAILED'],
      outcome: 'partial',
      httpStatus: 200,
    });
    expect(typeof operations[0].durationMs).toBe('number');
    expect(await metrics.registry.metrics()).toContain('gateway_operations_total{operation="Dashboard",outcome="partial"} 1');
  });

  it('reports a request refused before it resolved as an error of the unresolved operation', async () => {
    const { facts, telemetry, metrics, entries } = setUp();
    facts.recordErrors([new GatewayError('UNAUTHENTICATED', 'no token')]);
    telemetry.finish({ httpStatus: 401, aborted: false });
    expect(entries()[0]).toMatchObject({ operationName: null, errorCodes: ['UNAUTHENTICATED'], outcome: 'error', httpStatus: 401, upstreamCalls: 0 });
    expect(await metrics.registry.metrics()).toContain('gateway_operations_total{operation="(unresolved)",outcome="error"} 1');
  });

  it('writes a short line for a request served from the whole-response cache, counted under the stored operation name', async () => {
    const { facts, telemetry, metrics, entries } = setUp();
    facts.answeredWith('cached', 'HotPage', true);
    telemetry.finish({ httpStatus: 200, aborted: false });
    const [line] = entries();
    expect(line).toMatchObject({ msg: 'graphql operation', requestId: 'req-7', operationName: 'HotPage', outcome: 'cached', httpStatus: 200 });
    expect(line).not.toHaveProperty('upstreamCalls');
    expect(await metrics.registry.metrics()).toContain('gateway_operations_total{operation="HotPage",outcome="cached"} 1');
  });

  it('still reports a cached answer the caller never received as aborted', async () => {
    const { facts, telemetry, entries } = setUp();
    facts.answeredWith('cached', null, true);
    telemetry.finish({ httpStatus: 200, aborted: true });
    expect(entries()[0]).toMatchObject({ operationName: null, outcome: 'aborted' });
  });
});
