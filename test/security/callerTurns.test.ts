import { DEMO_PROJECT_ID, DEMO_TOKEN, SECOND_TOKEN } from '@cse-jobs-gateway/simulator';
import { callerDigest } from '../../src/cache/scopeKey';
import { STRANGERS } from '../../src/cache/callerShares';
import { addressKey } from '../../src/http/addressKey';
import { nextTurn } from '../../src/upstream/turns';
import { startGatewayOn, type GatewayHarness } from '../support/harness';
import { closed, eventually, protocolSocket, rawSocket } from '../support/liveClient';
import { destroyAll, getOnce, open } from '../support/rawConnections';
import { jobPageText, startFakeUpstream, type FakeUpstream } from '../support/upstream';

/**
 * Operations' long work (lists made a turn at a time) takes turns by caller: one caller's many operations
 * share one place in each round, so another caller's operation of the same size, sent after them, is not
 * served after all of them.
 */

const ENGINE = 'e-turns';
const PAGE = jobPageText(ENGINE, 100, 3);
let upstream: FakeUpstream;
let gateway: GatewayHarness;
beforeAll(async () => {
  upstream = await startFakeUpstream((path) => {
    if (path.split('?')[0]?.endsWith(`/engines/${ENGINE}/jobs`)) return PAGE;
    if (path.split('?')[0]?.endsWith(`/engines/${ENGINE}`)) return JSON.stringify({ id: ENGINE, name: 'turns', status: 'Available' });
    return undefined;
  });
  // A share of answers being made that these never fill: the turns alone are measured.
  gateway = await startGatewayOn(upstream, { OPERATION_MAX_UPSTREAM_BYTES: String(256 * 1024 * 1024), LOG_LEVEL: 'info' });
});
afterAll(async () => {
  destroyAll();
  await gateway.close();
  await upstream.close();
});

// 25 aliases × 100 jobs × their tasks: many turns' worth of fields each; aliases of its own per operation,
// so that none is shared with another in flight or answered from the cache.
const query = (n: number) => `{ engine(id: "${ENGINE}") { ${Array.from({ length: 25 }, (_, i) => `o${n}j${i}: jobs(first: 100) { nodes { id type status description startTime endTime tasks { id name status order } } edges { cursor node { id status } } }`).join(' ')} } }`;

async function post(token: string, n: number): Promise<void> {
  const response = await gateway.gql(query(n), undefined, { 'x-auth-token': token });
  expect(response.body.errors).toBeUndefined();
}

it("serves another caller's operation between a busy caller's, not after all of them", async () => {
  await post(DEMO_TOKEN, 99);
  const finished: string[] = [];
  const busy = Array.from({ length: 8 }, (_, i) => post(DEMO_TOKEN, i).then(() => finished.push(`busy${i}`)));
  // Sent once the busy caller's operations are all under way.
  await new Promise((resolve) => setTimeout(resolve, 30));
  const other = post(SECOND_TOKEN, 8).then(() => finished.push('other'));
  await Promise.all([...busy, other]);
  // Taking turns per operation, the last one sent finishes among the last; per caller, among the first.
  expect(finished.indexOf('other')).toBeLessThanOrEqual(1);
  expect(finished).toHaveLength(9);
  // The operations' own work, a few seconds alone, takes several times that beside the rest of the suite.
}, 60_000);

describe('a request waits for its caller\'s turn while other work waits for its own', () => {
  it('is parsed and run in that turn: one whose caller left meanwhile is not', async () => {
    const before = gateway.logs.length;
    // The caller's place is taken for many rounds: its new request waits behind these steps.
    const digest = callerDigest({ token: DEMO_TOKEN, projectId: DEMO_PROJECT_ID, enterpriseProjectId: undefined });
    const held = Promise.all(Array.from({ length: 500 }, () => nextTurn(digest)));
    const connection = await open(gateway.gateway.port);
    const body = JSON.stringify({ query: 'query LeftBeforeItsTurn { __typename }' });
    connection.socket.end(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Auth-Token: ${DEMO_TOKEN}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    connection.socket.destroy();
    await held;
    const operations = () => gateway.logs.slice(before).map((text) => JSON.parse(text) as Record<string, unknown>).filter((line) => line.msg === 'graphql operation');
    await eventually(() => operations().length > 0, 'its log line');
    // Run, it would have been answered with no error (and named): its caller had left before its turn came.
    expect(operations()).toEqual([expect.objectContaining({ operationName: null, operationType: null, outcome: 'aborted' })]);
  });

  it('is parsed in that turn even when nothing else waits: one whose client left at once is not', async () => {
    const before = gateway.logs.length;
    const connection = await open(gateway.gateway.port);
    const body = JSON.stringify({ query: 'query LeftAtOnce { __typename }' });
    // The client's end comes with its request or a pass later; the round waits a pass for the accept of
    // this new connection, so the end is read before its turn. Parsed in the callback that read the
    // request, or at a turn that heeded only the connection's close, it would be answered (logged so).
    connection.socket.end(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Auth-Token: ${DEMO_TOKEN}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const operations = () => gateway.logs.slice(before).map((text) => JSON.parse(text) as Record<string, unknown>).filter((line) => line.msg === 'graphql operation');
    await eventually(() => operations().length > 0, 'its log line');
    expect(operations()).toEqual([expect.objectContaining({ operationName: null, operationType: null, outcome: 'aborted' })]);
  });

  it('takes one place for all callers the upstream has not accepted, per address: made-up tokens are not a place each', async () => {
    await post(DEMO_TOKEN, 96);
    // The strangers' place of this address is taken for many rounds, each a millisecond's work.
    let heldDone = false;
    const busyStep = () => {
      const until = performance.now() + 1;
      while (performance.now() < until);
    };
    const held = Promise.all(Array.from({ length: 200 }, () => nextTurn(`${STRANGERS} ${addressKey('127.0.0.1')}`).then(busyStep))).then(() => (heldDone = true));
    const known = gateway.gql('query Known { __typename }', undefined, { 'x-auth-token': DEMO_TOKEN }).then(() => heldDone);
    const madeUp = gateway.gql('query MadeUp { __typename }', undefined, { 'x-auth-token': 'made-up-token-0000000000000001' }).then(() => heldDone);
    // In a place of its own, the made-up token's request would be answered in the first rounds.
    expect(await madeUp).toBe(true);
    expect(await known).toBe(false);
    await held;
  });

  it('answers a request that stays, with nothing else waiting', async () => {
    const response = await gateway.gql('query AtOnce { __typename }');
    expect(response.body).toEqual({ data: { __typename: 'Query' } });
  });
});

it("answers a connection new to the process while a caller's flood of new documents waits, not after it", async () => {
  await post(DEMO_TOKEN, 97);
  // Opened at once: the kernel holds them for the gateway to accept, one per pass of its loop.
  // Fewer than the passes a round lets go for connections (16): all are taken in before the first round.
  const flood = await Promise.all(Array.from({ length: 12 }, () => open(gateway.gateway.port)));
  let answered = 0;
  flood.forEach((connection, i) => {
    const body = JSON.stringify({ query: `{ engine(id: "${ENGINE}") { f${i}: jobs(first: 100) { nodes { id type status tasks { id name } } } } }` });
    connection.socket.once('data', () => (answered += 1));
    connection.socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Auth-Token: ${DEMO_TOKEN}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
  const health = await getOnce(gateway.gateway.port, '/healthz', 30_000);
  const answeredBeforeHealth = answered;
  await eventually(() => answered === flood.length, 'the flood answered');
  expect(health).toMatch(/^HTTP\/1\.1 200/);
  // Accepted one per pass with an operation run in each, it would come after most of them.
  expect(answeredBeforeHealth).toBeLessThanOrEqual(2);
}, 60_000);

describe("a WebSocket's messages", () => {
it("are handed over in its caller's turns: a connection new to the process is answered before a burst of them", async () => {
  const socket = await protocolSocket(gateway.gateway.url);
  const before = gateway.logs.length;
  const query = 'subscription ($e: ID!, $id: ID!) { jobUpdated(engineId: $e, id: $id) { id status type startTime endTime description } }';
  // Within the connection's limit of 25 subscriptions: each is admitted, its document parsed.
  socket.burst(Array.from({ length: 20 }, (_, i) => ({ type: 'subscribe', id: `s${i}`, payload: { query, variables: { e: ENGINE, id: String(i) } } })));
  const health = await getOnce(gateway.gateway.port, '/healthz');
  const started = () => gateway.logs.slice(before).filter((line) => line.includes('subscription started')).length;
  const startedBeforeHealth = started();
  await eventually(() => started() === 20, 'the burst admitted');
  expect(health).toMatch(/^HTTP\/1\.1 200/);
  // Handed over in the pass that read them, all 20 would be admitted first.
  expect(startedBeforeHealth).toBeLessThanOrEqual(5);
  socket.socket.close();
});

it('before the connection_init is acknowledged, are handed over at once: a subscribe sent with it is refused with 4401', async () => {
  const socket = rawSocket(gateway.gateway.url);
  await new Promise((resolve) => socket.once('open', resolve));
  const ended = closed(socket);
  const query = 'subscription ($e: ID!, $id: ID!) { jobUpdated(engineId: $e, id: $id) { id status } }';
  const raw = (socket as unknown as { _socket: import('node:net').Socket })._socket;
  raw.cork();
  socket.send(JSON.stringify({ type: 'connection_init', payload: { 'X-Auth-Token': DEMO_TOKEN } }));
  socket.send(JSON.stringify({ type: 'subscribe', id: 'early', payload: { query, variables: { e: ENGINE, id: '1' } } }));
  raw.uncork();
  // The protocol: a subscribe before the acknowledgement closes the socket, whenever the ack would come.
  expect((await ended).code).toBe(4401);
});

it('more at once than the socket may have waiting close it with 1013: one read cannot queue without bound', async () => {
  const socket = await protocolSocket(gateway.gateway.url);
  socket.burst(Array.from({ length: 1025 }, () => ({ type: 'ping' })));
  expect(await socket.closed).toBe(1013);
});
});

it('keeps a socket whose messages wait for their turns past its keepalive: its pongs are not read meanwhile', async () => {
  const pinging = await startGatewayOn(upstream, { SUBSCRIPTION_KEEPALIVE_MS: '40' });
  try {
    // A caller the upstream has accepted: its socket's messages wait in its own place.
    await pinging.gql(`{ engine(id: "${ENGINE}") { id } }`, undefined, { 'x-auth-token': DEMO_TOKEN });
    const socket = await protocolSocket(pinging.gateway.url);
    // The caller's place is taken for about 300 ms: the socket's ping waits, its socket paused.
    const digest = callerDigest({ token: DEMO_TOKEN, projectId: DEMO_PROJECT_ID, enterpriseProjectId: undefined });
    const busyStep = () => {
      const until = performance.now() + 1;
      while (performance.now() < until);
    };
    const held = Promise.all(Array.from({ length: 300 }, () => nextTurn(digest).then(busyStep)));
    socket.burst([{ type: 'ping' }]);
    await held;
    await eventually(() => socket.received.some((message: { type?: string }) => message.type === 'pong'), 'the pong');
    expect(socket.socket.readyState).toBe(socket.socket.OPEN);
    socket.socket.close();
  } finally {
    await pinging.close();
  }
});
