import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startGatewayOn, type GatewayHarness, type GqlResponse } from '../support/harness';

/**
 * Made-up tokens, each a new caller, must not take the upstream slots and queue places of a caller
 * the upstream accepted. Small limits: 4 in flight and 8 queued, so a caller's share is 2 and 4.
 */

const BURST = 30;
/** The most the made-up tokens can hold at once, in flight and queued: the others are shed. */
const HELD = 4 + 8;
const ENGINE = 'query ($id: ID!) { engine(id: $id) { id name } }';

// The upstream answers the demo token at once, and every other token a 401, held until `refuse`:
// the burst is in place however slowly a loaded host lets it arrive.
let upstream: Server;
let held: ServerResponse[] | undefined;
const unauthorized = (response: ServerResponse) =>
  response.writeHead(401, { 'content-type': 'application/json' }).end('{"error_code":"APIG.0301"}');
const refuse = () => {
  held?.forEach(unauthorized);
  held = undefined;
};
let h: GatewayHarness;
beforeAll(async () => {
  upstream = createServer((request, response) => {
    if (request.headers['x-auth-token'] !== DEMO_TOKEN) return void (held ? held.push(response) : unauthorized(response));
    const id = /\/engines\/([^/?]+)$/.exec(request.url ?? '')?.[1];
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, name: `engine ${id}` }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  h = await startGatewayOn({ url }, { ...CACHES_OFF, CSE_MAX_INFLIGHT: '4', CSE_MAX_QUEUE: '8', CSE_TIMEOUT_MS: '14000' });
});
beforeEach(() => (held = []));
afterEach(refuse);
afterAll(async () => {
  await h.close();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

let tokens = 0;

/** Each client address holds a quarter of the made-up tokens' share: the burst comes from four. */
const ADDRESSES = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];

/** A burst of made-up tokens, each asking for one engine: back once all but HELD have their answer. */
async function burst(engineId: (i: number) => string): Promise<{ answers: Promise<GqlResponse<unknown>[]> }> {
  let settled = 0;
  const answers = Array.from({ length: BURST }, (_, i) =>
    h.gql(ENGINE, { id: engineId(i) }, { 'x-auth-token': `made-up-token-${++tokens}` }, ADDRESSES[i % ADDRESSES.length]).finally(() => (settled += 1)),
  );
  while (settled < BURST - HELD) await sleep(5);
  return { answers: Promise.all(answers) };
}

it('a burst of made-up tokens holds one caller’s share: a verified caller’s requests all succeed', async () => {
  expect((await h.gql(ENGINE, { id: 'warm-up' })).body.errors).toBeUndefined();
  const strangers = await burst((i) => `made-up-engine-${i}`);
  const ids = ['v1', 'v2', 'v3', 'v4', 'v5'];
  const answers = await Promise.all(ids.map((id) => h.gql(ENGINE, { id })));
  expect(answers.map((answer) => answer.body)).toEqual(ids.map((id) => ({ data: { engine: { id, name: `engine ${id}` } } })));
  // The made-up tokens' share: two in flight (four queued), which get their 401; the others are shed.
  expect(held).toHaveLength(2);
  refuse();
  const codes = (await strangers.answers).map((response) => errorCodes(response).join());
  expect(new Set(codes)).toEqual(new Set(['UNAUTHENTICATED', 'UPSTREAM_UNAVAILABLE']));
});

it('made-up tokens naming a verified caller’s engine do not take that engine’s share', async () => {
  expect((await h.gql(ENGINE, { id: 'warm-up' })).body.errors).toBeUndefined();
  const strangers = await burst(() => 'shared');
  const victim = await h.gql(ENGINE, { id: 'shared' });
  expect(victim.body).toEqual({ data: { engine: { id: 'shared', name: 'engine shared' } } });
  refuse();
  await strangers.answers;
});
