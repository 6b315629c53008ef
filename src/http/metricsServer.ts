import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { metricsRoute, METRICS_PATH } from './operationalRoutes';

export interface MetricsServer {
  /** e.g. `http://127.0.0.1:9464/metrics` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * METRICS_PORT: /metrics on a listener of its own, as routers offer, so that the scrape port can
 * stay inside the cluster while PORT faces the clients. It serves nothing else (404), keeps no
 * idle connection open for long, and is closed with the gateway.
 */
export async function startMetricsServer(registry: Registry, port: number, host: string | undefined): Promise<MetricsServer> {
  const route = metricsRoute(registry)[METRICS_PATH]!;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path === METRICS_PATH) {
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = host === undefined || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${address.port}${METRICS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
