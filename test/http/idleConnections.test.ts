import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from '../support/harness';
import { closedWithin, destroyAll, getOnce, open, openAfter, type RawConnection } from '../support/rawConnections';
import { protocolSocket, type ProtocolSocket } from '../support/liveClient';

/**
 * A full connection table closes the connection idle longest (no request under way, not a WebSocket)
 * for a newcomer: connections kept alive, or opened and left silent, by a few addresses cannot keep
 * every other client out until their timeouts. Connections with requests under way, and WebSockets,
 * stay; with none idle, the newcomer gets the probes' reserve (503 OVERLOADED on /graphql).
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
  while (!connection.received().includes('\r\n\r\n')) await sleep(5);
  await sleep(20);
  expect(connection.received()).toMatch(/^HTTP\/1\.1 200/);
  return connection;
}

/** A connection from `from` whose POST has sent its head and part of its body. */
async function midRequest(from: string): Promise<RawConnection> {
  const connection = await open(port, { from });
  connection.socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
  return connection;
}

it('closes the connection idle longest for a newcomer, kept alive or silent since it opened', async () => {
  const first = await keptAlive('127.0.0.2');
  const silent = await open(port, { from: '127.0.0.2' });
  const third = await keptAlive('127.0.0.3');
  const fourth = await keptAlive('127.0.0.3');
  await sleep(50);
  expect(await getOnce(port, QUERY, 3000, '127.0.0.4')).toMatch(SERVED);
  expect(await closedWithin(first, 2000)).toBeGreaterThan(0);
  // That newcomer's connection closed (Connection: close): one more fills the table again, and the next
  // newcomer takes the place of the connection that never sent a byte.
  const fifth = await keptAlive('127.0.0.4');
  expect(await getOnce(port, QUERY, 3000, '127.0.0.5')).toMatch(SERVED);
  expect(await closedWithin(silent, 2000)).toBeGreaterThan(0);
  expect(await openAfter(fifth, 0)).toBe(true);
  expect(await openAfter(third, 100)).toBe(true);
  expect(await openAfter(fourth, 0)).toBe(true);
});

it('keeps connections with requests under way: the newcomer gets the reserve', async () => {
  const busy = [await midRequest('127.0.0.2'), await midRequest('127.0.0.2'), await midRequest('127.0.0.3'), await midRequest('127.0.0.3')];
  await sleep(50);
  expect(await getOnce(port, QUERY, 3000, '127.0.0.4')).toMatch(REFUSED);
  for (const connection of busy) expect(await openAfter(connection, 0)).toBe(true);
  // A request finished leaves its connection idle: the next newcomer takes its place.
  busy[0]!.socket.write(`${' '.repeat(98)}}`);
  await sleep(100);
  expect(await getOnce(port, QUERY, 3000, '127.0.0.4')).toMatch(SERVED);
  expect(await closedWithin(busy[0]!, 2000)).toBeGreaterThan(0);
});

it('keeps WebSockets: the newcomer gets the reserve once only they and busy connections are left', async () => {
  const sockets: ProtocolSocket[] = [];
  try {
    sockets.push(await protocolSocket(h.gateway.url, undefined, '127.0.0.2'));
    sockets.push(await protocolSocket(h.gateway.url, undefined, '127.0.0.3'));
    const idle = await keptAlive('127.0.0.2');
    await midRequest('127.0.0.3');
    await sleep(50);
    expect(await getOnce(port, QUERY, 3000, '127.0.0.4')).toMatch(SERVED);
    expect(await closedWithin(idle, 2000)).toBeGreaterThan(0);
    await midRequest('127.0.0.5');
    await sleep(50);
    expect(await getOnce(port, QUERY, 3000, '127.0.0.6')).toMatch(REFUSED);
    for (const socket of sockets) expect(socket.socket.readyState).toBe(socket.socket.OPEN);
  } finally {
    for (const socket of sockets) socket.socket.terminate();
  }
});
