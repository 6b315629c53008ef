import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Readiness } from '../observability/readiness';

export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

export const HEALTH_PATH = '/healthz';
export const READY_PATH = '/readyz';
export const METRICS_PATH = '/metrics';
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Beside /graphql, so a probe that reaches /readyz has reached the server that answers GraphQL;
 * none needs a token or tells of callers or the upstream. /metrics is on METRICS_PORT when set.
 */
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

function metricsRoute(registry: Registry): RouteHandler {
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

/** METRICS_PORT: the scrape port can stay inside the cluster while PORT faces the clients. */
export async function startMetricsServer(registry: Registry, port: number, host: string | undefined) {
  const route = metricsRoute(registry);
  const server = createServer((request, response) => {
    if ((request.url ?? '').split('?')[0] === METRICS_PATH) {
      Promise.resolve(route(request, response)).catch(() => {
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    response.end('Only /metrics is served here.\n');
  });
  // Scrapers come every few seconds: a slow or idle one must not hold a socket for long.
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5000;
  await once(server.listen(port, host), 'listening');
  const shown = host === undefined || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${(server.address() as AddressInfo).port}${METRICS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
