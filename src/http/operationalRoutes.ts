import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Readiness } from '../observability/readiness';

export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

export const HEALTH_PATH = '/healthz';
export const READY_PATH = '/readyz';
export const METRICS_PATH = '/metrics';

/**
 * The operational endpoints, served beside /graphql (same port: one thing to expose, and a
 * probe that reaches /readyz has reached the server that answers GraphQL). None needs a token
 * and none says anything about callers or the upstream's address.
 *
 * - /healthz: the process is alive and its event loop turns (liveness). Always 200.
 * - /readyz: this instance should get traffic: 200, or 503 with the reason.
 * - /metrics: Prometheus text format (on its own port instead when METRICS_PORT is set).
 */
export function operationalRoutes(readiness: Readiness, registry: Registry | undefined): Record<string, RouteHandler> {
  return {
    ...(registry === undefined ? {} : metricsRoute(registry)),
    [HEALTH_PATH]: (request, response) => {
      if (!allowedMethod(request, response)) return;
      sendJson(request, response, 200, { status: 'ok' });
    },
    [READY_PATH]: (request, response) => {
      if (!allowedMethod(request, response)) return;
      const state = readiness.state;
      sendJson(request, response, state.ready ? 200 : 503, state.ready ? { ready: true } : { ready: false, reason: state.reason });
    },
  };
}

/** /metrics alone: beside /graphql, or on the METRICS_PORT listener. */
export function metricsRoute(registry: Registry): Record<string, RouteHandler> {
  return {
    [METRICS_PATH]: async (request, response) => {
      if (!allowedMethod(request, response)) return;
      const text = await registry.metrics();
      response.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : text);
    },
  };
}

function allowedMethod(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return true;
  response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify({ error: 'Only GET and HEAD are allowed here.' }));
  return false;
}

function sendJson(request: IncomingMessage, response: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(request.method === 'HEAD' ? undefined : text);
}
