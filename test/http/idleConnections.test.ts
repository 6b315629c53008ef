import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_PROJECT_ID, DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { startGatewayOn, type GatewayHarness } from '../support/harness';
import { eventually, protocolSocket } from '../support/liveClient';
import { closedWithin, destroyAll, getOnce, open, openAfter, type RawConnection } from '../support/rawConnections';
import { heldJob, startFakeUpstream, type FakeUpstream } from '../support/upstream';

/**
 * A full connection table makes room for a newcomer by closing its longest-idle keep-alive
 * connection, as nginx does: before, connections kept open between requests (browsers, proxies,
 * many addresses each under its share) got every newcomer a 503 until one timed out. A connection
 * with a request on its way, an answer in the making, or upgraded to a WebSocket is never closed
 * for it: a table of those refuses as before. Each client here has an address of its own (127.0.0.x).
 */

const ENGINE = 'e-held';
const held = heldJob(ENGINE);

let upstream: FakeUpstream;
let h: GatewayHarness;
let port: number;
beforeAll(async () => {
  upstream = await startFakeUpstream((path) => held.answer(path));
  h = await startGatewayOn(upstream, {
    HTTP_MAX_CONNECTIONS: '4',
    HTTP_MAX_CONNECTIONS_PER_ADDRESS: '2',
    SUBSCRIPTION_MAX_SOCKETS: '1',
  });
  port = h.gateway.port;
});
afterEach(async () => {
  destroyAll();
  // The server counts a connection as gone on its close event.
  await sleep(100);
});
afterAll(async () => {
  await h.close();
  await upstream.close();
});

const QUERY = 'GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: x\r\nApollo-Require-Preflight: true\r\n';

/** A new caller's whole answer to `{ __typename }` from `from` (`Connection: close`). */
async function newCaller(from: string): Promise<string> {
  const connection = await open(port, { from });
  connection.socket.write(`${QUERY}Connection: close\r\n\r\n`);
  await closedWithin(connection, 3000);
  return connection.received();
}

/** The whole answers (by Content-Length) received on a connection. */
function answers(connection: RawConnection): string[] {
  const whole: string[] = [];
  let text = connection.received();
  for (;;) {
    const head = text.indexOf('\r\n\r\n');
    const length = /content-length: (\d+)/i.exec(text.slice(0, head))?.[1];
    if (head < 0 || length === undefined || text.length < head + 4 + Number(length)) return whole;
    whole.push(text.slice(0, head + 4 + Number(length)));
    text = text.slice(head + 4 + Number(length));
  }
}

/** One keep-alive request, then the connection left open once its answer is whole. */
async function keptAlive(connection: RawConnection): Promise<void> {
  const before = answers(connection).length;
  connection.socket.write(`${QUERY}\r\n`);
  await eventually(() => answers(connection).length > before, 'a whole answer');
}

/** Whether the server ended it with a FIN, not a reset. */
const endedCleanly = (connection: RawConnection) =>
  new Promise<boolean>((resolve) => connection.socket.once('close', (hadError) => resolve(!hadError)));

const SERVED = /^HTTP\/1\.1 200 [\s\S]*"__typename":"Query"/;
const REFUSED = /^HTTP\/1\.1 503 [\s\S]*"code":"UPSTREAM_UNAVAILABLE","reason":"OVERLOADED"/;

it('a new caller takes the place of the longest-idle keep-alive connection; an address at its share still does not', async () => {
  const [a, b, c, d] = await Promise.all(['127.0.0.1', '127.0.0.1', '127.0.0.2', '127.0.0.2'].map((from) => open(port, { from })));
  // Idle longest: c, then a (not the order they connected in).
  for (const connection of [c!, a!, d!, b!]) await keptAlive(connection);
  const cleanly = endedCleanly(c!);

  // 127.0.0.1 holds its share: it gets what the probes' reserve gives, and nobody is closed for it.
  expect(await newCaller('127.0.0.1')).toMatch(REFUSED);
  for (const connection of [a, b, c, d]) expect(await openAfter(connection!, 0)).toBe(true);

  // Kept alive, it fills the table again.
  const e = await open(port, { from: '127.0.0.3' });
  await keptAlive(e);
  expect(answers(e)).toEqual([expect.stringMatching(SERVED)]);
  await closedWithin(c!, 2000);
  expect(await cleanly).toBe(true);
  expect(answers(c!)).toEqual([expect.stringMatching(SERVED)]);
  expect(c!.received()).toBe(answers(c!)[0]);
  for (const connection of [a, b, d]) expect(await openAfter(connection!, 0)).toBe(true);

  // The next newcomer: the next longest-idle.
  expect(await newCaller('127.0.0.4')).toMatch(SERVED);
  await closedWithin(a!, 2000);
  for (const connection of [b, d, e]) expect(await openAfter(connection!, 0)).toBe(true);
});

it('a table of busy connections refuses a new caller as before, and gives way once one of them is idle', async () => {
  const socket = await protocolSocket(h.gateway.url);
  const sendingHeaders = await open(port, { from: '127.0.0.2' });
  sendingHeaders.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
  const sendingBody = await open(port, { from: '127.0.0.3' });
  sendingBody.socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query"');
  // Its answer in the making (the upstream holds it), after one answered: idle before, busy now.
  const answering = await open(port, { from: '127.0.0.4' });
  await keptAlive(answering);
  held.release = undefined;
  const body = JSON.stringify({ query: `{ job(engineId: "${ENGINE}", id: "2") { id } }` });
  const head = `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Auth-Token: ${DEMO_TOKEN}\r\n`;
  answering.socket.write(`${head}Content-Length: ${body.length}\r\n\r\n${body}`);
  await eventually(() => held.release !== undefined, 'the job asked of the upstream');

  expect(await newCaller('127.0.0.5')).toMatch(REFUSED);
  for (const connection of [sendingHeaders, sendingBody, answering]) expect(await openAfter(connection, 0)).toBe(true);
  expect(socket.socket.readyState).toBe(socket.socket.OPEN);

  held.release!();
  await eventually(() => answers(answering).length === 2, 'the held answer');
  expect(await newCaller('127.0.0.5')).toMatch(SERVED);
  await closedWithin(answering, 2000);
  expect(answers(answering)[1]).toMatch(/^HTTP\/1\.1 200 [\s\S]*"job":\{"id":"2"\}/);
  for (const connection of [sendingHeaders, sendingBody]) expect(await openAfter(connection, 0)).toBe(true);
  expect(socket.socket.readyState).toBe(socket.socket.OPEN);
  socket.socket.close();
});
