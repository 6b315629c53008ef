import { context, propagation, SpanKind, trace, type Span, type TextMapGetter } from '@opentelemetry/api';
import { incomingTraceHeaders } from './traceHeaders';

/**
 * Spans through `@opentelemetry/api` only: without an SDK registered every call is a no-op. The
 * operation's trace context reaches its upstream calls in the request context's `propagate`
 * headers, which work with or without an AsyncLocalStorage context manager.
 */
export const TRACER_NAME = 'cse-jobs-gateway';

type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

const incomingGetter: TextMapGetter<IncomingHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key.toLowerCase()],
};

/**
 * Starts the span of one GraphQL operation, and the headers for every upstream call of it
 * (`traceparent`, `tracestate`). Its parent is the active span when an SDK's HTTP instrumentation
 * made one, otherwise the caller's `traceparent`; without an SDK the propagator injects nothing,
 * so a valid incoming `traceparent` is passed on verbatim.
 */
export function startOperationTrace(headers: IncomingHeaders): { span: Span; propagate: Record<string, string> } {
  const active = context.active();
  const fromCaller = trace.getSpan(active) === undefined;
  const parent = fromCaller ? propagation.extract(active, headers, incomingGetter) : active;
  const span = trace.getTracer(TRACER_NAME).startSpan('graphql.operation', { kind: SpanKind.SERVER }, parent);
  const propagate = incomingTraceHeaders((name) => {
    const value = headers[name];
    return Array.isArray(value) ? undefined : value;
  });
  propagation.inject(trace.setSpan(parent, span), propagate);
  return { span, propagate };
}
