import WebSocket from 'ws';
import { DEMO_TOKEN, OTHER_PROJECT_ID, OTHER_TOKEN, SECOND_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { closed, eventually, protocolSocket, upgradeStatus, wsUrl, type ProtocolSocket } from '../support/liveClient';
import { send } from '../security/http';

/**
 * What one WebSocket and one client address may hold: a socket without a subscription is closed
 * after SUBSCRIPTION_IDLE_TIMEOUT_MS even while it answers pings, and upgrades past
 * SUBSCRIPTION_MAX_SOCKETS (503) or SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS (429) are refused before
 * the handshake, leaving HTTP its connections.
 */

const engineId = SEED.engines.onePage;
const EVENTS = `subscription { engineJobEvents(engineId: "${engineId}") { kind } }`;
const WATCH = 'subscription ($e: ID!, $id: ID!) { jobUpdated(engineId: $e, id: $id) { id } }';
/** Whether the socket is still open after `ms`. */
const openAfterMs = (socket: ProtocolSocket, ms: number) =>
  Promise.race([socket.closed.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), ms))]);
const madeUp = (n: number) => ({ 'X-Auth-Token': `made-up-token-${String(n).padStart(10, '0')}` });

/**
 * Two pings within the idle window. Neither is short: the test process is client and server, so a
 * loaded host's stall longer than a ping's interval drops the socket (1006) for a pong still unread.
 */
const IDLE_MS = 1000;
const KEEPALIVE_MS = 450;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ SUBSCRIPTION_IDLE_TIMEOUT_MS: String(IDLE_MS), SUBSCRIPTION_KEEPALIVE_MS: String(KEEPALIVE_MS) });
});
afterAll(() => h.close());
afterEach(() => eventually(() => h.gateway.subscriptions.sockets === 0, 'every socket closed'));

describe('SUBSCRIPTION_IDLE_TIMEOUT_MS', () => {
  it('closes a socket that only sent connection_init (and answers every ping) with 1000', async () => {
    const started = performance.now();
    const socket = await protocolSocket(h.gateway.url, { 'X-Auth-Token': 'made-up-token-0123456789' });
    const reason = new Promise((resolve) => socket.socket.once('close', (_code, why) => resolve(why.toString())));
    expect(await socket.closed).toBe(1000);
    // A stranger's idle time is the shorter of the two: here the idle timeout's, and the reason says so.
    expect(await reason).toBe('Idle: no subscription (SUBSCRIPTION_IDLE_TIMEOUT_MS)');
    expect(performance.now() - started).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(h.simulator.callCount()).toBe(0);
  });

  it('keeps a socket with a subscription, and closes it once its last subscription has ended', async () => {
    // No pings: over its longer life a loaded host's stall would drop the socket (see KEEPALIVE_MS);
    // keep-alive is access.test.ts's subject.
    const quiet = await startHarness({ SUBSCRIPTION_IDLE_TIMEOUT_MS: String(IDLE_MS), SUBSCRIPTION_KEEPALIVE_MS: '0' });
    try {
      const socket = await protocolSocket(quiet.gateway.url);
      socket.burst([{ type: 'subscribe', id: 'a', payload: { query: EVENTS } }]);
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS + 500));
      expect(socket.socket.readyState).toBe(WebSocket.OPEN);
      const stopped = performance.now();
      socket.burst([{ type: 'complete', id: 'a' }]);
      expect(await socket.closed).toBe(1000);
      expect(performance.now() - stopped).toBeGreaterThanOrEqual(IDLE_MS - 50);
    } finally {
      await quiet.close();
    }
  });
});

describe('socket caps', () => {
  // Its own gateway: sockets that never send connection_init must outlive a slow run of this test.
  let caps: Harness;
  beforeAll(async () => {
    caps = await startHarness({
      SUBSCRIPTION_INIT_TIMEOUT_MS: '60000',
      HTTP_MAX_CONNECTIONS: '20',
      HTTP_MAX_CONNECTIONS_PER_ADDRESS: '20',
      SUBSCRIPTION_MAX_SOCKETS: '4',
      SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS: '3',
    });
  });
  afterAll(() => caps.close());

  /** Opens a socket from `localAddress` and resolves with the upgrade's status (101: open). */
  function upgradeFrom(localAddress: string): { socket: WebSocket; status: Promise<number> } {
    const socket = new WebSocket(wsUrl(caps.gateway.url), 'graphql-transport-ws', { localAddress });
    return { socket, status: upgradeStatus(socket) };
  }

  it('refuses past SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS (429) and SUBSCRIPTION_MAX_SOCKETS (503), and HTTP is still served', async () => {
    const first = [upgradeFrom('127.0.0.1'), upgradeFrom('127.0.0.1'), upgradeFrom('127.0.0.1')];
    expect(await Promise.all(first.map((one) => one.status))).toEqual([101, 101, 101]);
    const fourthSameAddress = upgradeFrom('127.0.0.1');
    expect(await fourthSameAddress.status).toBe(429);
    // Another address still gets in, up to the process's cap.
    const other = upgradeFrom('127.0.0.2');
    expect(await other.status).toBe(101);
    const pastTotal = upgradeFrom('127.0.0.3');
    expect(await pastTotal.status).toBe(503);
    expect((await send(caps.gateway.url.replace(/\/graphql$/, '/healthz'))).status).toBe(200);
    expect((await caps.gql('{ __typename }')).status).toBe(200);
    // A closed socket frees its place at once.
    const gone = closed(first[0]!.socket);
    first[0]!.socket.close();
    await gone;
    await eventually(() => caps.gateway.subscriptions.sockets === 3, 'the closed socket counted out');
    const again = upgradeFrom('127.0.0.1');
    expect(await again.status).toBe(101);
    for (const one of [...first, other, again]) one.socket.close();
  });
});

describe("a caller's share of SUBSCRIPTION_MAX_SOCKETS", () => {
  // A quarter of 16: four sockets a caller, and four for all made-up tokens together. Sockets without a
  // subscription stay far longer than any of these tests takes.
  let shares: Harness;
  beforeAll(async () => {
    shares = await startHarness({
      SUBSCRIPTION_INIT_TIMEOUT_MS: '30000',
      SUBSCRIPTION_IDLE_TIMEOUT_MS: '60000',
      SUBSCRIPTION_KEEPALIVE_MS: '0',
      SUBSCRIPTION_MAX_SOCKETS: '16',
    });
  });
  afterAll(() => shares.close());
  afterEach(() => eventually(() => shares.gateway.subscriptions.sockets === 0, 'every socket closed'));

  const refusedAtInit = (url: string, payload: Record<string, unknown>) =>
    protocolSocket(url, payload).then(
      (socket) => socket.socket.close(),
      (error: Error) => error.message,
    );

  it("made-up tokens hold one share together (past it, the upstream's 401: 4401), a caller's own share closes 1013 past it", async () => {
    await shares.gql('{ engines(first: 1) { totalCount } }');
    const strangers = await Promise.all([1, 2, 3, 4].map((n) => protocolSocket(shares.gateway.url, madeUp(n))));
    expect(await refusedAtInit(shares.gateway.url, madeUp(5))).toBe('closed 4401 before the ack');
    const known = await Promise.all([1, 2, 3, 4].map(() => protocolSocket(shares.gateway.url)));
    expect(await refusedAtInit(shares.gateway.url, { 'X-Auth-Token': DEMO_TOKEN })).toBe('closed 1013 before the ack');
    // Its share full, the token is refused under a scope not yet seen too, without asking the upstream.
    const calls = shares.simulator.callCount();
    expect(await refusedAtInit(shares.gateway.url, { 'X-Auth-Token': DEMO_TOKEN, 'X-Enterprise-Project-ID': '7'.repeat(32) })).toBe('closed 1013 before the ack');
    expect(shares.simulator.callCount()).toBe(calls);
    for (const socket of [...strangers, ...known]) socket.socket.close();
    await eventually(() => shares.gateway.subscriptions.sockets === 0, 'the sockets closed');
    // Their places are free again.
    (await protocolSocket(shares.gateway.url, madeUp(6))).socket.close();
  });

  it("with the strangers' share full, a new token is asked of the upstream: a caller's gets in, a made-up one is closed 4401", async () => {
    const strangers = await Promise.all([21, 22, 23, 24].map((n) => protocolSocket(shares.gateway.url, madeUp(n))));
    shares.simulator.resetCalls();
    // OTHER_TOKEN has never called through this gateway.
    const other = await protocolSocket(shares.gateway.url, { 'X-Auth-Token': OTHER_TOKEN, 'X-Project-Id': OTHER_PROJECT_ID });
    expect(shares.simulator.callCount()).toBe(1);
    expect(await refusedAtInit(shares.gateway.url, madeUp(25))).toBe('closed 4401 before the ack');
    expect(shares.simulator.callCount()).toBe(2);
    // The upstream cannot answer: try again later.
    shares.simulator.injectFault({ route: 'listEngines', status: 503 });
    try {
      expect(await refusedAtInit(shares.gateway.url, madeUp(26))).toBe('closed 1013 before the ack');
    } finally {
      shares.simulator.clearFaults();
    }
    for (const socket of [...strangers, other]) socket.socket.close();
  });

  it('the sockets waiting for the upstream\'s word hold a share of their own: a slow upstream cannot let made-up tokens take the cap', async () => {
    await shares.gql('{ engines(first: 1) { totalCount } }');
    const strangers = await Promise.all([31, 32, 33, 34].map((n) => protocolSocket(shares.gateway.url, madeUp(n))));
    shares.simulator.injectFault({ route: 'listEngines', latencyMs: 1500 });
    try {
      const asking = [35, 36, 37, 38].map((n) => refusedAtInit(shares.gateway.url, madeUp(n)));
      await eventually(() => shares.gateway.subscriptions.sockets === 8, 'four sockets waiting for the upstream');
      // Past them, at once and without a call.
      expect(await refusedAtInit(shares.gateway.url, madeUp(39))).toBe('closed 1013 before the ack');
      // A known caller still gets in.
      (await protocolSocket(shares.gateway.url)).socket.close();
      shares.simulator.clearFaults();
      expect(await Promise.all(asking)).toEqual(Array(4).fill('closed 4401 before the ack'));
      const token = madeUp(39)['X-Auth-Token'];
      expect(shares.simulator.calls.filter((call) => call.headers['x-auth-token'] === token)).toHaveLength(0);
    } finally {
      shares.simulator.clearFaults();
      for (const socket of strangers) socket.socket.close();
    }
  });

  it("sockets waiting for the upstream's word count in their token's share: concurrent ones past it ask nothing", async () => {
    await shares.gql('{ engines(first: 1) { totalCount } }');
    const known = await Promise.all([1, 2, 3].map(() => protocolSocket(shares.gateway.url)));
    const strangers = await Promise.all([41, 42, 43, 44].map((n) => protocolSocket(shares.gateway.url, madeUp(n))));
    shares.simulator.resetCalls();
    const unseen = (n: number) => ({ 'X-Auth-Token': DEMO_TOKEN, 'X-Enterprise-Project-ID': String(n).repeat(32) });
    const answers = await Promise.all([5, 6, 8, 9].map((n) => refusedAtInit(shares.gateway.url, unseen(n))));
    expect(answers.filter((answer) => answer === undefined)).toHaveLength(1);
    expect(answers.filter((answer) => answer === 'closed 1013 before the ack')).toHaveLength(3);
    expect(shares.simulator.callCount()).toBe(1);
    for (const socket of [...known, ...strangers]) socket.socket.close();
  });

  it("a token's other projects are the same caller: made-up ones (the upstream answers 403) add no share", async () => {
    const madeUpProject = { 'X-Auth-Token': DEMO_TOKEN, 'X-Project-Id': '0123456789abcdef0123456789abcdef' };
    await shares.gql('{ engines(first: 1) { totalCount } }');
    expect((await shares.gql('{ engines(first: 1) { totalCount } }', undefined, madeUpProject)).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const known = await Promise.all([1, 2, 3, 4].map(() => protocolSocket(shares.gateway.url)));
    expect(await refusedAtInit(shares.gateway.url, madeUpProject)).toBe('closed 1013 before the ack');
    for (const socket of known) socket.socket.close();
  });

  it("a token the upstream accepts moves its socket to its caller's share, freeing the strangers'", async () => {
    // SECOND_TOKEN has not called through this gateway yet: a stranger until its subscription is answered.
    const second = await protocolSocket(shares.gateway.url, { 'X-Auth-Token': SECOND_TOKEN });
    const others = await Promise.all([8, 9, 10].map((n) => protocolSocket(shares.gateway.url, madeUp(n))));
    expect(await refusedAtInit(shares.gateway.url, madeUp(11))).toBe('closed 4401 before the ack');
    const job = shares.simulator.startJob(engineId);
    second.burst([{ type: 'subscribe', id: 'a', payload: { query: WATCH, variables: { e: engineId, id: String(job.id) } } }]);
    await eventually(() => second.received.length > 0, 'the first state');
    expect(await refusedAtInit(shares.gateway.url, madeUp(12))).toBeUndefined();
    for (const socket of [second, ...others]) socket.socket.close();
  });
});

it("closes a made-up token's socket without a subscription after SUBSCRIPTION_INIT_TIMEOUT_MS, a known caller's after the idle timeout", async () => {
  const quick = await startHarness({ SUBSCRIPTION_INIT_TIMEOUT_MS: '500', SUBSCRIPTION_IDLE_TIMEOUT_MS: '60000', SUBSCRIPTION_KEEPALIVE_MS: '0' });
  try {
    await quick.gql('{ engines(first: 1) { totalCount } }');
    const known = await protocolSocket(quick.gateway.url);
    const started = performance.now();
    const stranger = await protocolSocket(quick.gateway.url, madeUp(7));
    const reason = new Promise((resolve) => stranger.socket.once('close', (_code, why) => resolve(why.toString())));
    expect(await stranger.closed).toBe(1000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
    expect(await reason).toBe('Idle: no subscription (SUBSCRIPTION_INIT_TIMEOUT_MS)');
    expect(known.socket.readyState).toBe(WebSocket.OPEN);
    known.socket.close();
  } finally {
    await quick.close();
  }
});

it("a stranger's socket without a subscription, once its token is accepted, waits the caller's idle time", async () => {
  const quick = await startHarness({ SUBSCRIPTION_INIT_TIMEOUT_MS: '500', SUBSCRIPTION_IDLE_TIMEOUT_MS: '60000', SUBSCRIPTION_KEEPALIVE_MS: '0' });
  try {
    // A fresh gateway: the demo token is a stranger until a call with it is answered.
    const socket = await protocolSocket(quick.gateway.url);
    await quick.gql('{ engines(first: 1) { totalCount } }');
    expect(await openAfterMs(socket, 1000)).toBe(true);
    socket.socket.close();
  } finally {
    await quick.close();
  }
});

it("a socket opened before its token was accepted: each of its subscriptions counts once in its caller's share", async () => {
  // A quarter of 12: three subscriptions a caller; one a socket.
  const counted = await startHarness({ SUBSCRIPTION_MAX_PER_CONNECTION: '1', SUBSCRIPTION_MAX_TOTAL: '12', SUBSCRIPTION_INIT_TIMEOUT_MS: '30000' });
  try {
    const job = counted.simulator.startJob(engineId);
    const subscribe = (socket: ProtocolSocket, id: string) =>
      socket.burst([{ type: 'subscribe', id, payload: { query: WATCH, variables: { e: engineId, id: String(job.id) } } }]);
    const token = { 'X-Auth-Token': SECOND_TOKEN };
    // Both identified as strangers; the first's subscription makes the token known, so the second's is
    // admitted as the caller's while its socket is still the strangers'.
    const [first, second] = [await protocolSocket(counted.gateway.url, token), await protocolSocket(counted.gateway.url, token)];
    subscribe(first, 'a');
    await eventually(() => first.received.length > 0, 'the first state');
    subscribe(second, 'b');
    await eventually(() => second.received.length > 0, "the second's first state");
    first.socket.close();
    second.socket.close();
    await eventually(() => counted.gateway.subscriptions.active === 0 && counted.gateway.subscriptions.sockets === 0, 'all ended');
    // Nothing is left counted: the caller's three subscriptions are all its own again.
    const three = await Promise.all([1, 2, 3].map(() => protocolSocket(counted.gateway.url, token)));
    three.forEach((socket, i) => subscribe(socket, `c${i}`));
    await eventually(() => three.every((socket) => socket.received.length > 0), 'three answers');
    expect(three.map((socket) => socket.received[0].type)).toEqual(['next', 'next', 'next']);
    for (const socket of three) socket.socket.close();
  } finally {
    await counted.close();
  }
});

it("a valid token's quiet subscriptions under unseen enterprise projects hold its own quarter at most, and never lock a new caller out", async () => {
  // A quarter of 12: three subscriptions a caller, and three for the strangers together; one a socket.
  const quiet = await startHarness({ SUBSCRIPTION_MAX_PER_CONNECTION: '1', SUBSCRIPTION_MAX_TOTAL: '12', SUBSCRIPTION_INIT_TIMEOUT_MS: '30000' });
  const events = `subscription { engineJobEvents(engineId: "${SEED.engines.single}") { kind } }`;
  const subscribe = (socket: ProtocolSocket, id: string, query = events) => socket.burst([{ type: 'subscribe', id, payload: { query } }]);
  try {
    // Each an unseen scope of the demo token: strangers' until an event comes, and none will.
    const unseen = await Promise.all([1, 2, 3].map((n) => protocolSocket(quiet.gateway.url, { 'X-Auth-Token': DEMO_TOKEN, 'X-Enterprise-Project-ID': String(n).repeat(32) })));
    unseen.forEach((socket, i) => subscribe(socket, `q${i}`));
    await eventually(() => quiet.gateway.subscriptions.active === 3, 'three quiet subscriptions');
    // The token holds its quarter, whichever share its subscriptions also hold.
    await quiet.gql('{ engines(first: 1) { totalCount } }');
    const more = await protocolSocket(quiet.gateway.url);
    subscribe(more, 'more');
    await eventually(() => more.received.length > 0, 'an answer');
    expect(more.received[0]).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', scope: 'caller' } }] });
    // A new caller (the strangers' share is full): asked of the upstream, its subscription is its own.
    const job = quiet.simulator.startJob(engineId);
    const fresh = await protocolSocket(quiet.gateway.url, { 'X-Auth-Token': SECOND_TOKEN });
    subscribe(fresh, 'fresh', `subscription { jobUpdated(engineId: "${engineId}", id: "${job.id}") { id } }`);
    await eventually(() => fresh.received.length > 0, "the new caller's first state");
    expect(fresh.received[0]).toMatchObject({ type: 'next', payload: { data: { jobUpdated: { id: String(job.id) } } } });
    for (const socket of [...unseen, more, fresh]) socket.socket.close();
  } finally {
    await quiet.close();
  }
});

it("a new caller's socket opened before a valid token's quiet subscriptions filled the strangers' share still subscribes: accepted credentials leave that share", async () => {
  // A quarter of 8: two subscriptions a caller, and two for the strangers together.
  const quiet = await startHarness({ SUBSCRIPTION_MAX_PER_CONNECTION: '1', SUBSCRIPTION_MAX_TOTAL: '8', SUBSCRIPTION_INIT_TIMEOUT_MS: '30000' });
  const events = `subscription { engineJobEvents(engineId: "${SEED.engines.single}") { kind } }`;
  try {
    const newcomer = await protocolSocket(quiet.gateway.url, { 'X-Auth-Token': SECOND_TOKEN });
    const unseen = await Promise.all([1, 2].map((n) => protocolSocket(quiet.gateway.url, { 'X-Auth-Token': DEMO_TOKEN, 'X-Enterprise-Project-ID': String(n).repeat(32) })));
    unseen.forEach((socket, i) => socket.burst([{ type: 'subscribe', id: `q${i}`, payload: { query: events } }]));
    await eventually(() => quiet.gateway.subscriptions.active === 2, 'two quiet subscriptions');
    // The upstream accepts those scopes (as their polls' answers would), though no event will come.
    for (const n of [1, 2]) await quiet.gql('{ engines(first: 1) { totalCount } }', undefined, { 'X-Enterprise-Project-ID': String(n).repeat(32) });
    newcomer.burst([{ type: 'subscribe', id: 'n', payload: { query: events } }]);
    await eventually(() => quiet.gateway.subscriptions.active === 3, "the newcomer's subscription admitted", 3000);
    expect(newcomer.received).toEqual([]);
    for (const socket of [newcomer, ...unseen]) socket.socket.close();
  } finally {
    await quiet.close();
  }
});

it('a socket closed by its client while it had a subscription leaves no idle timer behind (no idle refusal counted after it)', async () => {
  const quick = await startHarness({ SUBSCRIPTION_IDLE_TIMEOUT_MS: '300', SUBSCRIPTION_KEEPALIVE_MS: '0' });
  const idleRefusals = async () => {
    const text = await fetch(quick.gateway.url.replace('/graphql', '/metrics')).then((response) => response.text());
    return Number(/gateway_subscription_sockets_refused_total\{reason="idle"\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  try {
    await quick.gql('{ engines(first: 1) { totalCount } }');
    const socket = await protocolSocket(quick.gateway.url);
    socket.burst([{ type: 'subscribe', id: 'a', payload: { query: EVENTS } }]);
    await eventually(() => quick.gateway.subscriptions.active === 1, 'the subscription');
    socket.socket.close();
    await eventually(() => quick.gateway.subscriptions.sockets === 0, 'the socket closed');
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await idleRefusals()).toBe(0);
  } finally {
    await quick.close();
  }
});
