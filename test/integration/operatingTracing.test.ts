import { propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';

/**
 * With an OpenTelemetry SDK registered (as an operator's preload file would), the gateway records
 * a server span per operation, child of the caller's traceparent, and a client span per upstream
 * call, child of the operation's; each upstream call carries its own span's traceparent. Jest gives
 * every test file its own globals, so the SDK registered here is seen by this file only.
 */

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

const exporter = new InMemorySpanExporter();
let h: Harness;
beforeAll(async () => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  // Baggage too, as an SDK's defaults have it: the caller's must not go upstream.
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  h = await startHarness({ ...CACHES_OFF, CSE_RETRIES: '0' });
});
afterAll(async () => {
  await h.close();
  trace.disable();
  propagation.disable();
});
beforeEach(() => {
  exporter.reset();
  h.simulator.resetCalls();
  h.simulator.clearFaults();
});

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

it('records the operation as a child of the caller, each upstream call as a child of the operation, and sends each call its own span', async () => {
  const response = await h.gql(
    // `name` needs the engine details: two upstream calls (id and jobs alone would need one).
    `query Traced($id: ID!) { engine(id: $id) { id name jobs(first: 2) { nodes { id } } } }`,
    { id: SEED.engines.drift },
    { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` },
  );
  expect(response.body.errors).toBeUndefined();
  const spans = exporter.getFinishedSpans();
  const operation = spans.find((span) => span.kind === SpanKind.SERVER)!;
  expect(operation.name).toBe('query Traced');
  expect(operation.attributes['graphql.operation.name']).toBe('Traced');
  expect(operation.spanContext().traceId).toBe(TRACE_ID);
  expect(parentOf(operation)).toBe(CALLER_SPAN);

  const upstream = spans.filter((span) => span.kind === SpanKind.CLIENT);
  expect(upstream.map((span) => span.name).sort()).toEqual(['cse getEngine', 'cse listJobs']);
  for (const span of upstream) {
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(parentOf(span)).toBe(operation.spanContext().spanId);
  }

  // What the upstream received: the trace, with the upstream call's own span as the parent.
  const sent = h.simulator.calls.map((call) => call.headers.traceparent);
  expect(sent).toHaveLength(2);
  expect(new Set(sent)).toEqual(new Set(upstream.map((span) => `00-${TRACE_ID}-${span.spanContext().spanId}-01`)));
});

it("sends the upstream the trace context only, not the caller's baggage", async () => {
  const baggage = Array.from({ length: 100 }, (_, i) => `key${i}=${'v'.repeat(40)}`).join(',');
  const response = await h.gql(`{ engine(id: "${SEED.engines.drift}") { name } }`, {}, { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`, baggage });
  expect(response.body.errors).toBeUndefined();
  expect(h.simulator.calls.length).toBeGreaterThan(0);
  for (const call of h.simulator.calls) {
    expect(call.headers.baggage).toBeUndefined();
    expect(call.headers.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-`));
  }
});

it("names the operation's span with at most 128 characters of its name: any caller may send a name of any length", async () => {
  const name = `Long${'x'.repeat(20_000)}`;
  await h.gql(`query ${name} { engine(id: "${SEED.engines.drift}") { id } }`);
  const operation = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER)!;
  expect(operation.name).toBe(`query ${name.slice(0, 128)}…[${name.length - 128} more chars]`);
  expect(operation.attributes['graphql.operation.name']).toBe(`${name.slice(0, 128)}…[${name.length - 128} more chars]`);
});

it('starts a new trace when the caller sent none, and still propagates it upstream', async () => {
  await h.gql('{ engines(first: 1) { totalCount } }');
  const operation = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER)!;
  expect(operation.name).toBe('query (anonymous)');
  expect(parentOf(operation)).toBeUndefined();
  const traceparent = h.simulator.calls[0]!.headers.traceparent;
  expect(traceparent).toMatch(new RegExp(`^00-${operation.spanContext().traceId}-[0-9a-f]{16}-01$`));
});

it('marks failed upstream calls and failed operations as errors, with the code and no URL', async () => {
  h.simulator.injectFault({ route: 'getEngine', status: 503 });
  await h.gql(`query Failing($id: ID!) { engine(id: $id) { id } }`, { id: SEED.engines.drift });
  const spans = exporter.getFinishedSpans();
  const call = spans.find((span) => span.name === 'cse getEngine')!;
  expect(call.status.code).toBe(SpanStatusCode.ERROR);
  expect(call.attributes['error.type']).toBe('UPSTREAM_UNAVAILABLE');
  expect(call.attributes['http.response.status_code']).toBe(503);
  const operation = spans.find((span) => span.kind === SpanKind.SERVER)!;
  expect(operation.status.code).toBe(SpanStatusCode.ERROR);
  expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain(h.simulator.url);
});
