import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, startGatewayOn, type GatewayHarness } from '../support/harness';

/** A made-up token's 401 for an engine must not count as that engine answering well. */

const ENGINE = 'query ($id: ID!) { engine(id: $id) { id name } }';

// The demo token's calls to engine `sick` fail with a 500, its others succeed; any other token gets a 401,
// but a 500 for engine `guarded` (an upstream may answer a token it does not know so).
let upstream: Server;
const calls: string[] = [];
let h: GatewayHarness;
beforeAll(async () => {
  upstream = createServer((request, response) => {
    const id = /\/engines\/([^/?]+)$/.exec(request.url ?? '')?.[1];
    const who = request.headers['x-auth-token'] === DEMO_TOKEN ? 'verified' : 'made-up';
    calls.push(`${who} ${id}`);
    const json = (status: number, body: unknown) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (who === 'made-up' && id === 'guarded') json(500, { error_code: 'SVCSTG.00500000', error_msg: 'internal' });
    else if (who === 'made-up') json(401, { error_code: 'APIG.0301' });
    else if (id === 'sick') json(500, { error_code: 'SVCSTG.00500000', error_msg: 'internal' });
    else json(200, { id, name: `engine ${id}` });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  h = await startGatewayOn({ url }, { ...CACHES_OFF, CSE_RETRIES: '0', CSE_BREAKER_FAILURES: '2', CSE_BREAKER_OPEN_MS: '60000' });
});
afterAll(async () => {
  await h.close();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

it('made-up tokens’ 401s between a verified caller’s failures leave the engine’s breaker to open', async () => {
  expect((await h.gql(ENGINE, { id: 'warm-up' })).body.errors).toBeUndefined();
  const reasons: unknown[] = [];
  const verified = async () => reasons.push((await h.gql(ENGINE, { id: 'sick' })).body.errors?.[0]?.extensions?.reason);
  const madeUp = (i: number) => h.gql(ENGINE, { id: 'sick' }, { 'x-auth-token': `made-up-token-${i}` });
  await verified();
  await madeUp(1);
  await verified();
  await madeUp(2);
  await verified();
  expect(reasons.at(-1)).toBe('CIRCUIT_OPEN');
  expect(calls).toEqual(['verified warm-up', 'verified sick', 'made-up sick', 'verified sick']);
});

it('made-up tokens answered with 500s do not open the breaker of an engine the upstream serves a verified caller', async () => {
  for (let i = 0; i < 4; i += 1) {
    const refused = await h.gql(ENGINE, { id: 'guarded' }, { 'x-auth-token': `another-made-up-token-${i}` });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_ERROR');
  }
  const served = await h.gql(ENGINE, { id: 'guarded' });
  expect(served.body.errors).toBeUndefined();
  expect(served.body.data.engine).toEqual({ id: 'guarded', name: 'engine guarded' });
});
