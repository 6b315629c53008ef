import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger';
import type { GatewayMetrics } from '../observability/metrics';
import { OperationFacts } from '../observability/OperationFacts';
import { OperationTelemetry } from '../observability/OperationTelemetry';
import { setRequestRecord } from '../observability/requestRecord';
import { ExchangeMemory } from '../observability/exchangeMemory';
import { GRAPHQL_PATH } from './httpServer';
import { REQUEST_ID_HEADER, requestIdFrom } from './requestId';

export interface ObserveRequestsOptions {
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
}

/**
 * The `aroundRequest` of the HTTP server: gives every request an id (the caller's, when safe),
 * returns it in `X-Request-Id`, and keeps the request's record (see requestRecord) for the
 * context, hooks and log lines of the request. GraphQL requests also get their OperationFacts and
 * an OperationTelemetry, finished when the exchange ends, whatever ended it (answer, refusal,
 * failure, or the caller going away).
 */
export function observeRequests(options: ObserveRequestsOptions) {
  return (request: IncomingMessage, response: ServerResponse, next: () => Promise<void>): Promise<void> => {
    const requestId = requestIdFrom(request.headers[REQUEST_ID_HEADER]);
    response.setHeader(REQUEST_ID_HEADER, requestId);
    // Probes, scrapes and CORS preflights are not operations: no log line, no operation metrics.
    if (pathname(request.url) !== GRAPHQL_PATH || request.method === 'OPTIONS') {
      setRequestRecord(request, { requestId });
      return next();
    }

    const facts = new OperationFacts();
    const telemetry = new OperationTelemetry({ requestId, headers: request.headers, facts, logger: options.logger, metrics: options.metrics });
    let aborted = false;
    response.once('close', () => {
      if (!response.writableFinished) aborted = true;
    });
    const memory = new ExchangeMemory();
    setRequestRecord(request, { requestId, facts, telemetry, memory });
    return (async () => {
      let failed = false;
      try {
        await next();
      } catch (error) {
        failed = true; // the HTTP server answers 500 once this settles
        throw error;
      } finally {
        telemetry.finish({ httpStatus: failed ? 500 : response.statusCode, aborted });
        memory.release();
      }
    })();
  };
}

function pathname(url: string | undefined): string {
  const path = url ?? '/';
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}
