import { SEED } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { eventually, protocolSocket } from '../support/liveClient';

/**
 * A caller's mistake in a subscription document is an `error` message for that id with a
 * documented code: the socket stays open, nothing is logged above warn.
 */

const engineId = SEED.engines.onePage;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ LOG_LEVEL: 'info' });
});
afterAll(() => h.close());

it.each([
  ['@include on the root field, with a variable', `subscription S($i: Boolean!) { engineJobEvents(engineId: "${engineId}") @include(if: $i) { kind } }`, { i: false }],
  ['@include with a nullable variable', `subscription S($i: Boolean) { engineJobEvents(engineId: "${engineId}") @include(if: $i) { kind } }`, { i: false }],
  ['@skip(if: true) on the root field', `subscription { engineJobEvents(engineId: "${engineId}") @skip(if: true) { kind } }`, {}],
  ['@skip inside a fragment spread at the root', `subscription S($s: Boolean!) { ...F } fragment F on Subscription { engineJobEvents(engineId: "${engineId}") @skip(if: $s) { kind } }`, { s: true }],
])('%s: GRAPHQL_VALIDATION_FAILED for that id, the socket stays open', async (_name, query, variables) => {
  const socket = await protocolSocket(h.gateway.url);
  const logged = h.logs.length;
  socket.burst([{ type: 'subscribe', id: 'bad', payload: { query, variables } }]);
  await eventually(() => socket.received.length > 0, 'an answer for the bad subscribe');
  expect(socket.received[0]).toMatchObject({ type: 'error', id: 'bad', payload: [{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
  expect(JSON.stringify(socket.received[0])).not.toMatch(/stack|at \w+ \(/);
  // The same socket still serves a good subscription.
  socket.burst([{ type: 'subscribe', id: 'good', payload: { query: `subscription { engineJobEvents(engineId: "${engineId}") { kind } }` } }]);
  await eventually(() => h.gateway.subscriptions.active === 1, 'the good subscription');
  expect(socket.socket.readyState).toBe(socket.socket.OPEN);
  socket.socket.close();
  await eventually(() => h.gateway.subscriptions.sockets === 0, 'the socket closed');
  const levels = h.logs.slice(logged).map((line) => JSON.parse(line).level as number);
  expect(levels.filter((level) => level > 40)).toEqual([]);
});

it('@defer in a subscription: DEFER_NOT_SUPPORTED for that id, as over HTTP', async () => {
  const socket = await protocolSocket(h.gateway.url);
  const query = `subscription { engineJobEvents(engineId: "${engineId}") { kind ... @defer { job { id } } } }`;
  socket.burst([{ type: 'subscribe', id: 'deferred', payload: { query } }]);
  await eventually(() => socket.received.length > 0, 'an answer for the subscribe');
  expect(socket.received[0]).toMatchObject({ type: 'error', id: 'deferred' });
  // Ours first, as over HTTP (graphql-js's "Unknown directive" follows).
  expect((socket.received[0] as { payload: Array<{ extensions?: { code?: string } }> }).payload[0]?.extensions?.code).toBe('DEFER_NOT_SUPPORTED');
  socket.socket.close();
  await eventually(() => h.gateway.subscriptions.sockets === 0, 'the socket closed');
});

describe('validation messages over WebSocket match HTTP', () => {
  const misspelt = `subscription { engineJobEvent(engineId: "${engineId}") { kind } }`;

  it.each([
    ['test (introspection on): with suggestions', {}, true],
    ['production: without suggestions', { NODE_ENV: 'production' }, false],
  ])('%s', async (_name, env, suggests) => {
    const gateway = await startHarness(env);
    try {
      const overHttp = await gateway.gql(misspelt);
      const socket = await protocolSocket(gateway.gateway.url);
      socket.burst([{ type: 'subscribe', id: 'typo', payload: { query: misspelt } }]);
      await eventually(() => socket.received.length > 0, 'an answer for the subscribe');
      const overSocket = (socket.received[0] as { payload: Array<{ message: string }> }).payload[0]!.message;
      expect(overSocket).toBe(overHttp.body.errors![0]!.message);
      expect(/Did you mean/.test(overSocket)).toBe(suggests);
      socket.socket.close();
    } finally {
      await gateway.close();
    }
  });
});

describe("variables that do not fit their types: BAD_USER_INPUT for that id, as HTTP answers a query's", () => {
  const query = 'subscription ($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id } }';
  // 100,000 levels in 200 KB (under MAX_BODY_BYTES), written as text: stringifying it would overflow the stack.
  const DEEP = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  const subscribe = (id: string, variables: Record<string, unknown>, deep: string) =>
    JSON.stringify({ type: 'subscribe', id, payload: { query, variables: { ...variables, [deep]: '<deep>' } } }).replace('"<deep>"', DEEP);

  it.each([
    ['a wrong type', { engineId: { x: 1 }, id: '1' }, '$engineId'],
    ['a required one missing', { engineId }, '$id'],
    ['null for a non-null one', { engineId, id: null }, '$id'],
  ])('%s', async (_name, variables, named) => {
    const socket = await protocolSocket(h.gateway.url);
    const logged = h.logs.length;
    socket.burst([{ type: 'subscribe', id: 'bad', payload: { query, variables } }]);
    await eventually(() => socket.received.length > 0, 'an answer for the bad subscribe');
    expect(socket.received[0]).toMatchObject({ type: 'error', id: 'bad', payload: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
    expect((socket.received[0] as { payload: Array<{ message: string }> }).payload[0]!.message).toContain(`Variable "${named}"`);
    expect(socket.socket.readyState).toBe(socket.socket.OPEN);
    socket.socket.close();
    await eventually(() => h.gateway.subscriptions.sockets === 0, 'the socket closed');
    const levels = h.logs.slice(logged).map((line) => JSON.parse(line).level as number);
    expect(levels.filter((level) => level > 40)).toEqual([]);
  });

  it('one nested 100,000 levels deep', async () => {
    const socket = await protocolSocket(h.gateway.url);
    const logged = h.logs.length;
    socket.socket.send(subscribe('bad', { id: '1' }, 'engineId'));
    await eventually(() => socket.received.length > 0, 'an answer for the bad subscribe');
    expect(socket.received[0]).toMatchObject({ type: 'error', id: 'bad', payload: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
    socket.socket.close();
    await eventually(() => h.gateway.subscriptions.sockets === 0, 'the socket closed');
    const levels = h.logs.slice(logged).map((line) => JSON.parse(line).level as number);
    expect(levels.filter((level) => level > 40)).toEqual([]);
  });

  it('a variable the operation does not declare is never read, however deep', async () => {
    const job = h.simulator.startJob(engineId);
    const socket = await protocolSocket(h.gateway.url);
    const logged = h.logs.length;
    socket.socket.send(subscribe('extra', { engineId, id: String(job.id) }, 'junk'));
    await eventually(() => socket.received.length > 0, 'the first state');
    expect(socket.received[0]).toMatchObject({ type: 'next', id: 'extra', payload: { data: { jobUpdated: { id: String(job.id) } } } });
    socket.socket.close();
    await eventually(() => h.gateway.subscriptions.sockets === 0, 'the socket closed');
    const levels = h.logs.slice(logged).map((line) => JSON.parse(line).level as number);
    expect(levels.filter((level) => level > 40)).toEqual([]);
  });
});
