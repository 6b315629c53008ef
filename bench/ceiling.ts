import { createServer, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { gatewayRequest, SCENARIOS } from './scenarios';

/**
 * The ceiling for stored answers: a bare `node:http` server that reads each request's body and
 * answers the bytes the gateway answers for S1's page, fetched from the gateway once at start.
 * Nothing can serve a stored answer for less on one Node core, so the gateway's whole-response
 * cache hit is measured against it (S1, S4 at the defaults).
 *
 *   node ceiling.js --gateway <the gateway's /graphql URL>
 */

/** What the gateway answers for S1, headers included, less those Node writes for itself. */
async function storedAnswer(gateway: URL): Promise<{ headers: OutgoingHttpHeaders; body: Buffer }> {
  const page = SCENARIOS.S1.ask as Exclude<typeof SCENARIOS.S1.ask, string>;
  const ask = gatewayRequest(page, [], DEMO_TOKEN, gateway.pathname);
  const response = await request(gateway, { method: ask.method, headers: ask.headers, body: ask.body });
  const body = Buffer.from(await response.body.arrayBuffer());
  if (response.statusCode !== 200) {
    throw new Error(`the gateway answered HTTP ${response.statusCode}: ${body.toString().slice(0, 500)}`);
  }
  const own = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);
  const headers = Object.fromEntries(Object.entries(response.headers).filter(([name]) => !own.has(name)));
  return { headers, body };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { gateway: { type: 'string' } } });
  if (values.gateway === undefined) throw new Error('usage: ceiling --gateway <url>');
  const answer = await storedAnswer(new URL(values.gateway));
  const server = createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(200, answer.headers);
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`Ceiling ready at http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  const stop = (): void => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
