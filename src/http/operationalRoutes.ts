import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Readiness } from '../observability/readiness';

export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

export const HEALTH_PATH = '/healthz';
export const READY_PATH = '/readyz';
export const METRICS_PATH = '/metrics';
const JSON_TYPE = 'application/json; charset=utf-8';

/** Beside /graphql, so a probe that reaches /readyz has reached the server that answers GraphQL;
 * none needs a token or tells of callers or the upstream. /metrics is on METRICS_PORT when set. */
export function operationalRoutes(readiness: Readiness, registry: Registry | undefined): Record<string, RouteHandler> {
  return {
    ...(registry === undefined ? {} : { [METRICS_PATH]: metricsRoute(registry) }),
    [HEALTH_PATH]: (request, response) => {
      if (allowed(request, response)) send(request, response, 200, { status: 'ok' });
    },
    [READY_PATH]: (request, response) => {
      const { ready, reason } = { reason: undefined, ...readiness.state };
      if (allowed(request, response)) send(request, response, ready ? 200 : 503, ready ? { ready } : { ready, reason });
    },
  };
}

export function metricsRoute(registry: Registry): RouteHandler {
  return async (request, response) => {
    if (allowed(request, response)) send(request, response, 200, await registry.metrics(), registry.contentType);
  };
}

function allowed(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return true;
  response.writeHead(405, { allow: 'GET, HEAD', 'content-type': JSON_TYPE });
  response.end(JSON.stringify({ error: 'Only GET and HEAD are allowed here.' }));
  return false;
}

function send(request: IncomingMessage, response: ServerResponse, status: number, body: unknown, type = JSON_TYPE): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  response.end(request.method === 'HEAD' ? undefined : text);
}
