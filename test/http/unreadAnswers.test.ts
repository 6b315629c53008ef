import { DEMO_PROJECT_ID, DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { startGatewayOn, type GatewayHarness } from '../support/harness';
import { eventually } from '../support/liveClient';
import { destroyAll, open, openAfter, type RawConnection } from '../support/rawConnections';
import { heldJob, startFakeUpstream, type FakeUpstream } from '../support/upstream';

/**
 * An answer its client does not read is held HTTP_REQUEST_TIMEOUT_MS from its end at most, then
 * its connection is destroyed: before, it was held with its bytes for as long as the client
 * stayed. The answer (21 MiB) is more than the kernel's socket buffers take, so the rest waits in
 * the process. HTTP_MAX_CONNECTIONS is 1: the unread answer's connection holds the only slot, and
 * a new request is served again once the gateway has closed it.
 */

/** Long enough for a reader on a loaded host to take all 21 MiB in time. */
const DEADLINE_MS = 3000;
const ENGINE = 'e-large';
const JOB_PATH = `/v2/${DEMO_PROJECT_ID}/enginemgr/engines/${ENGINE}/jobs/1`;
/** 3 MiB: below CSE_MAX_RESPONSE_BYTES. */
const JOB = JSON.stringify({ id: 1, engineId: ENGINE, status: 'Finished', description: 'd'.repeat(3 * 1024 * 1024), tasks: [] });
const ALIASES = 'abcdefg'.split('').map((alias) => `${alias}: description`);
const LARGE = `{ job(engineId: "${ENGINE}", id: "1") { ${ALIASES.join(' ')} } }`;
/** The answer's Content-Length. */
const sizeOf = (connection: RawConnection) => Number(/content-length: (\d+)/i.exec(connection.received())?.[1]);

const held = heldJob(ENGINE);

let upstream: FakeUpstream;
let gateway: GatewayHarness;
let port: number;
beforeAll(async () => {
  upstream = await startFakeUpstream((path) => (path.split('?')[0] === JOB_PATH ? JOB : held.answer(path)));
});
afterEach(destroyAll);
afterAll(() => upstream.close());

function post(connection: RawConnection, query: string, token = DEMO_TOKEN): void {
  const body = JSON.stringify({ query });
  const head = `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Auth-Token: ${token}\r\n`;
  connection.socket.write(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** The status line of a request on a fresh connection. */
async function statusOfNewRequest(query = '{ __typename }', token = DEMO_TOKEN): Promise<[string, RawConnection]> {
  const connection = await open(port);
  post(connection, query, token);
  await eventually(() => connection.received().includes('\r\n'), 'a status line', 10_000);
  return [connection.received().split('\r\n', 1)[0]!, connection];
}

describe('with one connection slot', () => {
beforeAll(async () => {
  gateway = await startGatewayOn(upstream, {
    HTTP_HEADERS_TIMEOUT_MS: '500',
    HTTP_REQUEST_TIMEOUT_MS: String(DEADLINE_MS),
    HTTP_MAX_CONNECTIONS: '1',
    HTTP_MAX_CONNECTIONS_PER_ADDRESS: '1',
    SUBSCRIPTION_MAX_SOCKETS: '0',
    OPERATION_MAX_UPSTREAM_BYTES: String(64 * 1024 * 1024),
  });
  port = gateway.gateway.port;
});
afterAll(() => gateway.close());

/** A request on the ordinary slot, sent again while the server has yet to see the last one leave it. */
async function postOnTheSlot(query: string): Promise<RawConnection> {
  let served: RawConnection | undefined;
  await eventually(async () => {
    const [status, connection] = await statusOfNewRequest(query);
    if (/ 200 /.test(status)) served = connection;
    else connection.socket.destroy();
    return served !== undefined;
  }, 'the slot free', 5000);
  return served!;
}

it('destroys the connection of an answer its client stops reading, HTTP_REQUEST_TIMEOUT_MS after the answer', async () => {
  const unread = await postOnTheSlot(LARGE);
  unread.socket.pause();
  expect(sizeOf(unread)).toBeGreaterThan(20 * 1024 * 1024);
  const [refused] = await statusOfNewRequest();
  expect(refused).toMatch(/ 503 /);
  await eventually(async () => / 200 /.test((await statusOfNewRequest())[0]), 'the slot given back', 5 * DEADLINE_MS);
  unread.socket.resume();
  await unread.closed;
  expect(unread.received().length).toBeLessThan(sizeOf(unread));
});

it('keeps the kept-alive connection of a client that reads the same answer, past that time', async () => {
  const reader = await postOnTheSlot(LARGE);
  const size = sizeOf(reader) + reader.received().indexOf('\r\n\r\n') + 4;
  expect(size).toBeGreaterThan(20 * 1024 * 1024);
  // The length alone: reading the text would copy all of it each time.
  await eventually(() => reader.received().length === size, 'the whole answer', 10_000);
  expect(reader.received().endsWith('"}}}')).toBe(true);
  // Its deadline, had it not been cleared, began before the last byte was read.
  expect(await openAfter(reader, DEADLINE_MS)).toBe(true);
});

it('answers one request at a time per connection: pipelined requests behind an unfinished answer are refused, not run', async () => {
  let connection!: RawConnection;
  // Four requests in one write, while the only slot is free: Node would start each one at once.
  await eventually(async () => {
    connection = await open(port);
    const body = JSON.stringify({ query: LARGE });
    const head = `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Auth-Token: ${DEMO_TOKEN}\r\n`;
    connection.socket.write(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`.repeat(4));
    await eventually(() => connection.received().includes('\r\n'), 'a status line', 10_000);
    if (/^HTTP\/1\.1 200/.test(connection.received())) return true;
    connection.socket.destroy();
    return false;
  }, 'the slot free', 5000);
  await connection.closed;
  const statuses = connection.received().match(/HTTP\/1\.1 \d{3}/g);
  expect(statuses).toEqual(['HTTP/1.1 200', 'HTTP/1.1 503']);
  expect(connection.received()).toContain('One request at a time per connection');
});
});

describe('a caller’s share of answers not yet sent', () => {
  beforeAll(async () => {
    // The share is two answers as large as an operation may make: 48 MiB, two unread answers of 21 MiB.
    gateway = await startGatewayOn(upstream, {
      HTTP_REQUEST_TIMEOUT_MS: '60000',
      SUBSCRIPTION_MAX_SOCKETS: '0',
      OPERATION_MAX_UPSTREAM_BYTES: String(24 * 1024 * 1024),
    });
    port = gateway.gateway.port;
  });
  afterAll(() => gateway.close());

  it('refuses a caller a third unread large answer (503 OVERLOADED), not another caller, and gives it back when one is read or cut', async () => {
    const unread: RawConnection[] = [];
    for (let i = 0; i < 2; i += 1) {
      // Reads its first chunk only: however fast the host, the rest stays unsent.
      const connection = await open(port);
      connection.socket.once('data', () => connection.socket.pause());
      post(connection, LARGE);
      await eventually(() => connection.received().includes('\r\n'), 'a status line');
      expect(connection.received()).toMatch(/^HTTP\/1\.1 200 /);
      unread.push(connection);
    }
    const [third, refused] = await statusOfNewRequest(LARGE);
    expect(third).toMatch(/ 503 /);
    await refused.closed;
    expect(refused.received()).toContain('"reason":"OVERLOADED"');
    expect(refused.received()).toContain('still unsent');
    const [other] = await statusOfNewRequest(LARGE, 'another-callers-token');
    expect(other).toMatch(/ 200 /);
    unread[0]!.socket.destroy();
    await eventually(async () => / 200 /.test((await statusOfNewRequest(LARGE))[0]), 'the share given back', 10_000);
  });

  it('counts nothing for a client that left before its answer was made', async () => {
    const leaving = `{ large: job(engineId: "${ENGINE}", id: "1") { ${ALIASES.join(' ')} } held: job(engineId: "${ENGINE}", id: "2") { id } }`;
    for (let i = 0; i < 3; i += 1) {
      held.release = undefined;
      const connection = await open(port);
      post(connection, leaving, `leaving-caller-token-${'x'.repeat(4)}`);
      await eventually(() => held.release !== undefined, 'job 2 asked');
      connection.socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      held.release!();
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    // Three 21 MiB answers made for a client gone would hold more than the 48 MiB share.
    const [status] = await statusOfNewRequest(LARGE, `leaving-caller-token-${'x'.repeat(4)}`);
    expect(status).toMatch(/ 200 /);
  });
});
