import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

export interface StaticSite {
  readonly url: string;
  close(): Promise<void>;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/**
 * A built single-page app on 127.0.0.1 port 0, as `vite preview` serves it: files from `dir`,
 * `index.html` for any other path, and `/graphql` — HTTP requests and WebSocket upgrades alike —
 * passed to `gatewayUrl` untouched (the Host header included, so the gateway sees the page's own
 * origin, as behind a same-origin proxy).
 */
export async function serveStaticSite(dir: string, gatewayUrl: string): Promise<StaticSite> {
  const gateway = new URL(gatewayUrl);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://site').pathname;
    if (path === gateway.pathname) {
      const upstream = request(
        { host: gateway.hostname, port: gateway.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
      return;
    }
    const file = normalize(join(dir, decodeURIComponent(path)));
    const served = file.startsWith(dir + sep) && existsSync(file) && statSync(file).isFile() ? file : join(dir, 'index.html');
    res.writeHead(200, { 'content-type': TYPES[extname(served)] ?? 'application/octet-stream' });
    createReadStream(served).pipe(res);
  });
  // Upgraded sockets are no longer the server's connections: closing the site ends them here.
  const tunnels = new Set<{ destroy(): void }>();
  server.on('upgrade', (req, socket, head) => {
    const upstream = connect(Number(gateway.port), gateway.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    const end = () => {
      upstream.destroy();
      socket.destroy();
      tunnels.delete(tunnel);
    };
    const tunnel = { destroy: end };
    tunnels.add(tunnel);
    upstream.on('error', end);
    socket.on('error', end);
    upstream.on('close', end);
    socket.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const tunnel of [...tunnels]) tunnel.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
