import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from '../support/harness';
import { closedWithin, destroyAll, getOnce, open, openAfter, type RawConnection } from '../support/rawConnections';
import { eventually, protocolSocket, type ProtocolSocket } from '../support/liveClient';
import { KEPT_ALIVE_GRACE_MS } from '../../src/http/idleConnections';

/**
 * A full connection table closes an idle connection for a newcomer: first one that never sent a request,
 * then one kept alive after its answer and idle for KEPT_ALIVE_GRACE_MS, oldest first. Connections kept
 * open by a few addresses cannot keep every other client out until their timeouts. Connections with
 * requests under way, and WebSockets, stay; with none idle, the newcomer gets the probes' reserve
 * (503 OVERLOADED on /graphql).
 */

let h: Harness;
let port: number;
beforeAll(async () => {
  h = await startHarness({
    HTTP_MAX_CONNECTIONS: '4',
    HTTP_MAX_CONNECTIONS_PER_ADDRESS: '2',
    SUBSCRIPTION_MAX_SOCKETS: '2',
    HTTP_KEEP_ALIVE_TIMEOUT_MS: '60000',
  });
  port = h.gateway.port;
});
afterAll(() => h.close());
afterEach(destroyAll);

const QUERY = '/graphql?query=%7B__typename%7D';
// Refused by CSRF prevention (no preflight header): served, not refused for its connection.
const SERVED = /^HTTP\/1\.1 400/;
const REFUSED = /^HTTP\/1\.1 503[\s\S]*"reason":"OVERLOADED"/;

/** A connection from `from` that asked for /healthz and is kept alive, idle. */
async function keptAlive(from: string): Promise<RawConnection> {
  const connection = await open(port, { from });
  connection.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await eventually(() => /^HTTP\/1\.1 200[\s\S]*\r\n\r\n/.test(connection.received()), 'the /healthz answer');
  return connection;
}

/** A connection from `from` whose POST has sent its head (the server has begun it: 100 Continue) and part of its body. */
async function midRequest(from: string): Promise<RawConnection> {
  const connection = await open(port, { from });
  connection.socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n');
  await eventually(() => connection.received().startsWith('HTTP/1.1 100 Continue'), '100 Continue');
  connection.socket.write('{');
  return connection;
}

it('closes a connection that never sent a request first, then one kept alive past the grace, oldest first', async () => {
  const older = await keptAlive('127.0.0.2');
  const silent = await open(port, { from: '127.0.0.2' });
  const newer = await keptAlive('127.0.0.3');
  await keptAlive('127.0.0.3');
  await sleep(50);
  expect(await getOnce(port, QUERY, 3000, '127.0.0.4')).toMatch(SERVED);
  expect(await closedWithin(silent, 2000)).toBeGreaterThan(0);
  expect(await openAfter(older, 0)).toBe(true);
  // That newcomer's connection closed (Connection: close): one more fills the table again.
  const fresh = await keptAlive('127.0.0.4');
  // Within the grace, a connection just answered is not closed for a newcomer.
  expect(await getOnce(port, QUERY, 3000, '127.0.0.5')).toMatch(REFUSED);
  await sleep(KEPT_ALIVE_GRACE_MS + 100);
  expect(await getOnce(port, QUERY, 3000, '127.0.0.5')).toMatch(SERVED);
  expect(await closedWithin(older, 2000)).toBeGreaterThan(0);
  for (const connection of [newer, fresh]) expect(await openAfter(connection, 0)).toBe(true);
});

it('keeps connections with requests under way: the newcomer gets the reserve', async () => {
  const busy = [await midRequest('127.0.0.2'), await midRequest('127.0.0.2'), await midRequest('127.0.0.3'), await midRequest('127.0.0.3')];
  expect(await getOnce(port, QUERY, 3000, '127.0.0.4')).toMatch(REFUSED);
  for (const connection of busy) expect(await openAfter(connection, 0)).toBe(true);
  // A request finished leaves its connection idle: past the grace, the next newcomer takes its place.
  busy[0]!.socket.write(`${' '.repeat(98)}}`);
  await eventually(() => /\r\n\r\nHTTP\/1\.1 400/.test(busy[0]!.received()), 'the answer');
  await sleep(KEPT_ALIVE_GRACE_MS + 100);
  expect(await getOnce(port, QUERY, 3000, '127.0.0.4')).toMatch(SERVED);
  expect(await closedWithin(busy[0]!, 2000)).toBeGreaterThan(0);
});

it('keeps WebSockets: the newcomer gets the reserve once only they and busy connections are left', async () => {
  const sockets: ProtocolSocket[] = [];
  try {
    sockets.push(await protocolSocket(h.gateway.url, undefined, '127.0.0.2'));
    sockets.push(await protocolSocket(h.gateway.url, undefined, '127.0.0.3'));
    const silent = await open(port, { from: '127.0.0.2' });
    await midRequest('127.0.0.3');
    await sleep(50);
    expect(await getOnce(port, QUERY, 3000, '127.0.0.4')).toMatch(SERVED);
    expect(await closedWithin(silent, 2000)).toBeGreaterThan(0);
    await midRequest('127.0.0.5');
    expect(await getOnce(port, QUERY, 3000, '127.0.0.6')).toMatch(REFUSED);
    for (const socket of sockets) expect(socket.socket.readyState).toBe(socket.socket.OPEN);
  } finally {
    for (const socket of sockets) socket.socket.terminate();
  }
});
