import fc from 'fast-check';
import { GraphQLError } from 'graphql';
import { Writable } from 'node:stream';
import { GatewayError } from '../../src/errors/GatewayError';
import { boundString, createLogger, OPERATION_NAME_MAX_CHARS } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
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
  const telemetry = new OperationTelemetry('req-7', {}, logger, metrics);
  return { facts: telemetry.facts, telemetry, metrics, entries: () => lines.map((line) => JSON.parse(line)) };
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
    facts.hasData = true;
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

  it('cuts an operation name to 128 characters: any caller may send one of any length, once a request', async () => {
    const { facts, telemetry, entries } = setUp();
    const name = `Long${'x'.repeat(5_000)}`;
    facts.operationResolved(name, 'query');
    telemetry.finish({ httpStatus: 200, aborted: false });
    expect(entries()[0].operationName).toBe(`${name.slice(0, 128)}…[${name.length - 128} more chars]`);
    expect(JSON.stringify(entries()[0]).length).toBeLessThan(600);
  });

  it("writes the line pino writes for the same fields, in the same order, bounded alike", async () => {
    const names = fc.option(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ minLength: 2040, maxLength: 2100 })));
    const traceparents = fc.constantFrom(undefined, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'garbage');
    const setups = fc.record({
      requestId: fc.oneof(fc.uuid(), fc.string({ maxLength: 3000 })),
      name: names,
      type: fc.option(fc.constantFrom('query', 'mutation')),
      reused: fc.constantFrom(undefined, 'cached' as const, 'coalesced' as const),
      codes: fc.subarray(['UPSTREAM_ERROR', 'NOT_FOUND', 'BAD_USER_INPUT']),
      hits: fc.nat(5),
      httpStatus: fc.constantFrom(200, 400, 401),
      traceparent: traceparents,
    });
    await fc.assert(
      fc.asyncProperty(setups, async (setup) => {
        const lines: string[] = [];
        const logger = createLogger('info', new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
        const metrics = createMetrics({ maxOperationNames: 10, processMetrics: false });
        const headers = setup.traceparent === undefined ? {} : { traceparent: setup.traceparent };
        const telemetry = new OperationTelemetry(setup.requestId, headers, logger, metrics);
        const { facts } = telemetry;
        if (setup.reused !== undefined) facts.answeredWith(setup.reused, setup.name, true);
        else {
          facts.operationResolved(setup.name, setup.type);
          for (let i = 0; i < setup.hits; i += 1) telemetry.events.cache!({ route: 'getJob', hit: true });
          facts.recordErrors(setup.codes.map((code) => ({ extensions: { code } })));
          facts.hasData = true;
        }
        telemetry.finish({ httpStatus: setup.httpStatus, aborted: false });
        const written = JSON.parse(lines[0]!);
        const operationName = setup.name === null ? null : boundString(setup.name, OPERATION_NAME_MAX_CHARS);
        const fields =
          setup.reused !== undefined
            ? { requestId: setup.requestId, operationName, durationMs: written.durationMs, outcome: written.outcome, httpStatus: setup.httpStatus }
            : {
                requestId: setup.requestId,
                operationName,
                operationType: setup.type,
                durationMs: written.durationMs,
                upstreamCalls: 0,
                cacheHits: setup.hits,
                errorCodes: setup.codes,
                outcome: written.outcome,
                httpStatus: setup.httpStatus,
              };
        const trace = setup.traceparent?.startsWith('00-') ? { trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' } : {};
        logger.info({ ...fields, ...trace }, 'graphql operation');
        const expected = JSON.parse(lines[1]!);
        expect({ ...written, time: undefined }).toEqual({ ...expected, time: undefined });
        expect(Object.keys(written)).toEqual(Object.keys(expected));
      }),
      { numRuns: 100 },
    );
  });
});
