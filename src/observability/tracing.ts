import { context, propagation, SpanKind, SpanStatusCode, trace, type Span, type TextMapGetter } from '@opentelemetry/api';
import { GatewayError } from '../errors/GatewayError';
import type { UpstreamAnswer, UpstreamRequestContext } from '../upstream/CseHttpClient';
import type { Route } from '../upstream/paths';
import { incomingTraceHeaders } from './traceHeaders';

/**
 * Spans through `@opentelemetry/api` only. Without an SDK registered in the process every call
 * here is a no-op and costs next to nothing; with one (see docs/operating.md, "Tracing"), the gateway records
 * a span per GraphQL operation and a child span per upstream call, and the upstream receives the
 * `traceparent` of the upstream call's span.
 *
 * The operation's trace context travels to the upstream calls inside the `propagate` headers of
 * the UpstreamRequestContext: they are exactly what the upstream must receive, they need no new
 * field on the request context, and they work whether or not an AsyncLocalStorage context manager
 * is installed.
 */

const TRACER_NAME = 'cse-jobs-gateway';

type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

const incomingGetter: TextMapGetter<IncomingHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key.toLowerCase()],
};

export interface OperationTrace {
  readonly span: Span;
  /** Headers for every upstream call of the operation (`traceparent`, `tracestate`). */
  readonly propagate: Readonly<Record<string, string>>;
}

/**
 * Starts the span of one GraphQL operation. Its parent is the active span when an SDK's HTTP
 * instrumentation already made one, otherwise the caller's `traceparent`. Without an SDK the
 * propagator injects nothing, so a valid incoming `traceparent` is passed on verbatim.
 */
export function startOperationTrace(headers: IncomingHeaders): OperationTrace {
  const active = context.active();
  const parent = trace.getSpan(active) !== undefined ? active : propagation.extract(active, headers, incomingGetter);
  const span = trace.getTracer(TRACER_NAME).startSpan('graphql.operation', { kind: SpanKind.SERVER }, parent);
  const propagate = incomingTraceHeaders((name) => {
    const value = headers[name];
    return Array.isArray(value) ? undefined : value;
  });
  propagation.inject(trace.setSpan(parent, span), propagate);
  return { span, propagate };
}

/**
 * Runs one upstream call inside a client span, child of the operation's span, and sends that
 * span's context upstream. A GatewayError marks the span failed with its code (never its URL).
 */
export async function withUpstreamSpan(
  route: Route,
  request: UpstreamRequestContext,
  call: (request: UpstreamRequestContext) => Promise<UpstreamAnswer>,
): Promise<UpstreamAnswer> {
  const parent = propagation.extract(context.active(), request.propagate ?? {});
  const span = trace.getTracer(TRACER_NAME).startSpan(
    `cse ${route}`,
    { kind: SpanKind.CLIENT, attributes: { 'cse.route': route, 'http.request.method': 'GET' } },
    parent,
  );
  const propagate: Record<string, string> = { ...request.propagate };
  propagation.inject(trace.setSpan(parent, span), propagate);
  try {
    const answer = await call({ ...request, propagate });
    span.setAttribute('cse.outcome', answer.kind);
    return answer;
  } catch (error) {
    const code = error instanceof GatewayError ? error.code : 'INTERNAL_SERVER_ERROR';
    span.setAttribute('error.type', code);
    if (error instanceof GatewayError && error.extensions.upstream !== undefined) {
      const status = (error.extensions.upstream as { status?: number }).status;
      if (status !== undefined) span.setAttribute('http.response.status_code', status);
    }
    span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    throw error;
  } finally {
    span.end();
  }
}
