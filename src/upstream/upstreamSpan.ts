import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { GatewayError } from '../errors/GatewayError';
import { TRACER_NAME } from '../observability/tracing';
import type { UpstreamAnswer, UpstreamRequestContext } from './CseHttpClient';
import type { Route } from './paths';

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
