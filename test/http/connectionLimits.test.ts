import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from '../support/harness';
import { closedWithin, destroyAll, getOnce, open, type RawConnection } from '../support/rawConnections';
import { PROBE_CONNECTIONS } from '../../src/http/httpServer';
import { send } from '../security/http';
import { protocolSocket, rawSocket, upgradeStatus } from '../support/liveClient';

/**
 * Every client connection has a deadline and their number is capped: idle or trickling sockets
 * cannot pile up until the process runs out of descriptors (and `/healthz` with it), and a body
 * past MAX_BODY_BYTES is not read to its end. Bounds are asserted generously (the machines are
 * shared); without the settings these sockets stay open for 90 s to 300 s.
 */

let h: Harness;
let port: number;
beforeAll(async () => {
  h = await startHarness({
    HTTP_HEADERS_TIMEOUT_MS: '500',
    HTTP_REQUEST_TIMEOUT_MS: '1000',
    HTTP_KEEP_ALIVE_TIMEOUT_MS: '300',
    HTTP_MAX_CONNECTIONS: '6',
    HTTP_MAX_CONNECTIONS_PER_ADDRESS: '6',
    SUBSCRIPTION_MAX_SOCKETS: '3',
    MAX_BODY_BYTES: '4096',
  });
  port = h.gateway.port;
});
afterAll(() => h.close());

afterEach(destroyAll);

it('closes a socket that never sends a byte after HTTP_HEADERS_TIMEOUT_MS', async () => {
  const probe = await open(port);
  expect(await closedWithin(probe, 5000)).toBeGreaterThanOrEqual(400);
});

it('closes a socket that sends a request line and one header, then nothing', async () => {
  const probe = await open(port);
  probe.socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\n');
  await closedWithin(probe, 5000);
});

it('closes a socket that trickles its body after HTTP_REQUEST_TIMEOUT_MS', async () => {
  const probe = await open(port);
  probe.socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3000\r\n\r\n{');
  const trickle = setInterval(() => probe.socket.write(' '), 100);
  try {
    expect(await closedWithin(probe, 6000)).toBeGreaterThanOrEqual(900);
  } finally {
    clearInterval(trickle);
  }
});

it('closes an idle keep-alive connection after HTTP_KEEP_ALIVE_TIMEOUT_MS', async () => {
  const probe = await open(port);
  probe.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await closedWithin(probe, 5000);
  expect(probe.received()).toMatch(/^HTTP\/1\.1 200/);
});

it('caps connections at HTTP_MAX_CONNECTIONS, keeps PROBE_CONNECTIONS more for /healthz and /readyz, and serves again once idle ones are closed', async () => {
  const idle = await Promise.all(Array.from({ length: 6 }, () => open(port)));
  await sleep(50);
  // Past the cap: the probes are answered, anything else is refused on that connection.
  expect(await getOnce(port, '/healthz')).toMatch(/^HTTP\/1\.1 200/);
  expect(await getOnce(port, '/readyz')).toMatch(/^HTTP\/1\.1 200/);
  const refused = await getOnce(port, '/graphql?query=%7B__typename%7D');
  expect(refused).toMatch(/^HTTP\/1\.1 503/);
  expect(refused).toMatch(/connection: close/i);
  expect(refused).toMatch(/"code":"UPSTREAM_UNAVAILABLE","reason":"OVERLOADED"/);
  // The reserve full too: a newer connection takes the place of the oldest there (probeReserve.test.ts).
  const reserve: RawConnection[] = [];
  for (let i = 0; i < PROBE_CONNECTIONS; i += 1) reserve.push(await open(port));
  await sleep(50);
  const extra = await open(port);
  expect(await closedWithin(reserve[0]!, 2000)).toBeLessThan(1000);
  await Promise.all([...idle, ...reserve, extra].map((probe) => closedWithin(probe, 5000)));
  expect((await send(h.gateway.url.replace('/graphql', '/healthz'))).status).toBe(200);
  expect(await getOnce(port, '/graphql?query=%7B__typename%7D')).not.toMatch(/^HTTP\/1\.1 503/);
});

it('WebSockets cannot take the connections HTTP and the probes need', async () => {
  // SUBSCRIPTION_MAX_SOCKETS (3) below HTTP_MAX_CONNECTIONS (6): the fourth upgrade is refused.
  const sockets = await Promise.all(Array.from({ length: 3 }, () => protocolSocket(h.gateway.url)));
  const fourth = rawSocket(h.gateway.url);
  expect(await upgradeStatus(fourth)).toBe(503);
  // HTTP still has its share of the table.
  expect((await send(h.gateway.url.replace('/graphql', '/healthz'))).status).toBe(200);
  // The rest of the table full of idle connections: the probes are still answered, and an
  // upgrade on a connection kept for them is refused.
  const idle = await Promise.all(Array.from({ length: 3 }, () => open(port)));
  await sleep(50);
  expect(await getOnce(port, '/healthz')).toMatch(/^HTTP\/1\.1 200/);
  const upgrade = await open(port);
  upgrade.socket.write('GET /graphql HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n');
  await closedWithin(upgrade, 3000);
  expect(upgrade.received()).toMatch(/^HTTP\/1\.1 503/);
  for (const socket of sockets) socket.socket.close();
  await Promise.all(idle.map((probe) => closedWithin(probe, 5000)));
});

it('closes a refused upgrade\'s socket though the client keeps its half open: refusals cannot fill the table', async () => {
  const upgrade = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==';
  const refused = await Promise.all(Array.from({ length: 6 }, () => open(port, { allowHalfOpen: true })));
  refused.forEach(({ socket }, i) =>
    socket.write(i % 2 === 0
      ? `GET /x HTTP/1.1\r\nHost: x\r\n${upgrade}\r\n\r\n`
      : `GET /graphql HTTP/1.1\r\nHost: x\r\nOrigin: http://elsewhere.example\r\n${upgrade}\r\n\r\n`),
  );
  await Promise.all(refused.map(({ socket }) => new Promise((ended) => socket.once('end', ended))));
  expect(refused.map(({ received }) => received().slice(0, 12))).toEqual(Array(3).fill(['HTTP/1.1 404', 'HTTP/1.1 403']).flat());
  await sleep(100);
  // Before, each stayed open until its client closed it, holding one of the 6 places for good.
  expect(await getOnce(port, '/graphql?query=%7B__typename%7D')).not.toMatch(/^HTTP\/1\.1 503/);
});

it('answers 413 to a declared oversized body without reading it, and closes the connection', async () => {
  const probe = await open(port);
  probe.socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${200 * 1024 * 1024}\r\n\r\n`);
  await closedWithin(probe, 3000);
  expect(probe.received()).toMatch(/^HTTP\/1\.1 413/);
  expect(probe.received()).toMatch(/connection: close/i);
});

it('stops reading a chunked body once it passes MAX_BODY_BYTES, and closes the connection', async () => {
  const probe = await open(port);
  probe.socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
  const chunk = 'x'.repeat(1024);
  let sent = 0;
  // Keeps sending for as long as the server lets it: up to 8 MB, far past the 4 KB limit.
  const pump = (async () => {
    while (!probe.socket.destroyed && sent < 8 * 1024 * 1024) {
      const ok = probe.socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      sent += chunk.length;
      if (!ok) await Promise.race([new Promise((resolve) => probe.socket.once('drain', resolve)), probe.closed]);
    }
  })();
  await closedWithin(probe, 5000);
  await pump;
  expect(probe.received()).toMatch(/^HTTP\/1\.1 413/);
  expect(sent).toBeLessThan(8 * 1024 * 1024);
});
