import { context, propagation, ProxyTracerProvider, SpanKind, trace, type Span, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import { incomingTraceHeaders } from './traceHeaders';

export const TRACER_NAME = 'cse-jobs-gateway';

type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

const incomingGetter: TextMapGetter<IncomingHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key.toLowerCase()],
};

/** The API's proxy has no delegate until an SDK registers one: then no span, no context work. */
export function registeredTracer(): Tracer | undefined {
  const provider = trace.getTracerProvider();
  if (!(provider instanceof ProxyTracerProvider)) return provider.getTracer(TRACER_NAME);
  return provider.getDelegateTracer(TRACER_NAME);
}

// The operation's span (none without a tracer provider) and the trace headers for its upstream calls:
// the caller's valid ones, or the propagator's. Headers, not an AsyncLocalStorage context, carry it.
export function startOperationTrace(
  headers: IncomingHeaders,
): { span: Span | undefined; propagate: Record<string, string> } {
  const propagate = incomingTraceHeaders((name) => {
    const value = headers[name];
    return Array.isArray(value) ? undefined : value;
  });
  const tracer = registeredTracer();
  if (tracer === undefined) return { span: undefined, propagate };
  const active = context.active();
  // A span already active is the HTTP instrumentation's, of an SDK: the caller's trace is in it.
  const parent = trace.getSpan(active) === undefined ? propagation.extract(active, headers, incomingGetter) : active;
  const span = tracer.startSpan('graphql.operation', { kind: SpanKind.SERVER }, parent);
  propagation.inject(trace.setSpan(parent, span), propagate);
  return { span, propagate };
}
