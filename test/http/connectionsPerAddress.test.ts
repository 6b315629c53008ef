import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from '../support/harness';
import { destroyAll, getOnce, open } from '../support/rawConnections';

/**
 * One client address holds at most HTTP_MAX_CONNECTIONS_PER_ADDRESS of the connection table: one client
 * keeping connections open (kept alive by a probe request every few seconds) cannot leave every other
 * caller 503 while the probes stay green. Past its share, its connections get what the probes' reserve
 * gives (the probes from its address are still answered).
 */

let h: Harness;
let port: number;
beforeAll(async () => {
  h = await startHarness({ HTTP_MAX_CONNECTIONS: '8', HTTP_MAX_CONNECTIONS_PER_ADDRESS: '3', SUBSCRIPTION_MAX_SOCKETS: '2' });
  port = h.gateway.port;
});
afterAll(() => h.close());
afterEach(destroyAll);

const QUERY = '/graphql?query=%7B__typename%7D';

it('serves another address while one holds its share, and that one only the probes past it', async () => {
  for (let i = 0; i < 3; i += 1) await open(port);
  await sleep(50);
  expect(await getOnce(port, QUERY)).toMatch(/^HTTP\/1\.1 503[\s\S]*"reason":"OVERLOADED"/);
  expect(await getOnce(port, '/healthz')).toMatch(/^HTTP\/1\.1 200/);
  // Served: refused by CSRF prevention (no preflight header), not for its connection.
  expect(await getOnce(port, QUERY, 3000, '127.0.0.2')).toMatch(/^HTTP\/1\.1 400/);
});

it('gives an address its share back as its connections close', async () => {
  // The last test's connections, closed by the client, are closed on the gateway's side too.
  await sleep(200);
  const held = await Promise.all(Array.from({ length: 3 }, () => open(port)));
  await sleep(50);
  expect(await getOnce(port, QUERY)).toMatch(/^HTTP\/1\.1 503/);
  for (const connection of held) connection.socket.destroy();
  await sleep(50);
  expect(await getOnce(port, QUERY)).toMatch(/^HTTP\/1\.1 400/);
});
