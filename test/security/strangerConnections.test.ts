import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { eventually } from '../support/liveClient';
import { CACHES_OFF, errorCodes, startGatewayOn, type GatewayHarness } from '../support/harness';

/**
 * Made-up tokens against an upstream slow to refuse them must not hold every upstream connection:
 * with the default in-flight limits (a caller's share is 32) and a pool of 4 connections, the
 * strangers hold one (a quarter of the pool), and a verified caller's calls go on the others.
 */

const CONNECTIONS = 4;
const BURST = 12;
const ENGINE = 'query ($id: ID!) { engine(id: $id) { id name } }';

// The demo token is answered at once; every other token's 401 is held until `refuse`.
let upstream: Server;
let held: ServerResponse[] = [];
let mostHeld = 0;
const refuse = () => {
  for (const response of held.splice(0)) {
    response.writeHead(401, { 'content-type': 'application/json' }).end('{"error_code":"APIG.0301"}');
  }
};
let h: GatewayHarness;
beforeAll(async () => {
  upstream = createServer((request, response) => {
    if (request.headers['x-auth-token'] !== DEMO_TOKEN) {
      held.push(response);
      mostHeld = Math.max(mostHeld, held.length);
      return;
    }
    const id = /\/engines\/([^/?]+)$/.exec(request.url ?? '')?.[1];
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, name: `engine ${id}` }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  h = await startGatewayOn({ url }, { ...CACHES_OFF, CSE_CONNECTIONS: String(CONNECTIONS), CSE_TIMEOUT_MS: '20000' });
});
afterAll(async () => {
  refuse();
  await h.close();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

it('a burst of made-up tokens holds a quarter of the upstream connections; a verified caller uses the rest', async () => {
  expect((await h.gql(ENGINE, { id: 'warm-up' })).body.errors).toBeUndefined();
  const strangers = Array.from({ length: BURST }, (_, i) =>
    h.gql(ENGINE, { id: `made-up-engine-${i}` }, { 'x-auth-token': `made-up-token-${i}` }),
  );
  await eventually(() => held.length >= 1, 'a stranger’s call held at the upstream');
  // Sent after the whole burst: without the bound, the strangers' calls took every connection first.
  const ids = ['v1', 'v2', 'v3', 'v4', 'v5'];
  const verified = Promise.all(ids.map((id) => h.gql(ENGINE, { id })));
  const late = new Promise<'late'>((resolve) => setTimeout(resolve, 10_000, 'late').unref());
  const answers = await Promise.race([verified, late]);
  expect(answers === 'late' ? answers : answers.map((answer) => answer.body)).toEqual(
    ids.map((id) => ({ data: { engine: { id, name: `engine ${id}` } } })),
  );
  expect(mostHeld).toBe(CONNECTIONS / 4);
  // Each stranger's call goes once a slot frees, and is refused in its turn.
  const refusing = setInterval(refuse, 5);
  const codes = await Promise.all(strangers).finally(() => clearInterval(refusing));
  expect(new Set(codes.map((response) => errorCodes(response).join()))).toEqual(new Set(['UNAUTHENTICATED']));
  expect(mostHeld).toBe(CONNECTIONS / 4);
}, 30_000);
