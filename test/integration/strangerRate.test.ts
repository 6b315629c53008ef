import { DEMO_TOKEN, SECOND_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type GqlResponse, type Harness } from '../support/harness';
import { eventually, protocolSocket, sleep, type ProtocolSocket } from '../support/liveClient';

/**
 * Made-up tokens, each a new caller, cost the upstream one call each: CSE_MAX_STRANGER_CALLS_PER_S
 * bounds how many of those start a second, so a flood of them cannot get the gateway's real callers
 * throttled by the upstream's own rate limit (docs/security.md#made-up-tokens).
 */

const RATE = 20;
const FLOOD = 100;
// Far above the flood's own wait (FLOOD / RATE seconds): the gateway shares this test's event loop.
const DEADLINE_MS = 25_000;
const ENGINE = `{ engine(id: "${SEED.engines.big}") { id name } }`;
const WATCH = 'subscription ($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id } }';

/**
 * The calls counted a second after `since`, and the seconds that really passed: the gateway shares
 * this event loop, and a timer held up by the flood must not stretch the bound it checks
 * (burst + rate · seconds, the bucket's own).
 */
function firstSecond(count: () => number, since: number): Promise<{ calls: number; seconds: number }> {
  return new Promise((resolve) => setTimeout(() => resolve({ calls: count(), seconds: (performance.now() - since) / 1000 }), 1000));
}

describe('a flood of made-up tokens', () => {
  let h: Harness;
  beforeAll(async () => {
    // Caches off: every accepted request below is an upstream call of its own. The flood comes from one
    // address: its quarter of the queue places holds it whole.
    const queue = String(4 * FLOOD);
    h = await startHarness({ ...CACHES_OFF, CSE_MAX_STRANGER_CALLS_PER_S: String(RATE), REQUEST_TIMEOUT_MS: String(DEADLINE_MS), CSE_MAX_QUEUE: queue, CSE_MAX_QUEUE_PER_CALLER: queue });
  });
  afterAll(() => h.close());

  it('starts at most rate + burst upstream calls in its first second, and neither an accepted nor a new real caller is shut out', async () => {
    // Accepted before the flood: its calls are its own caller's, not the strangers'.
    expect((await h.gql(ENGINE)).body.errors).toBeUndefined();
    const started = performance.now();
    h.simulator.resetCalls();
    const callsOf = (token: string) => h.simulator.calls.filter((call) => call.headers['x-auth-token'] === token).length;
    const madeUpCalls = () => h.simulator.calls.filter((call) => call.headers['x-auth-token']?.startsWith('made-up-')).length;
    const inFirstSecond = firstSecond(madeUpCalls, started);
    const flood = Array.from({ length: FLOOD }, (_, i) => h.gql(ENGINE, undefined, { 'x-auth-token': `made-up-${String(i).padStart(3, '0')}` }));
    // A real token the gateway has not seen: a stranger until the upstream answers its first call,
    // which waits its turn behind the flood.
    const newCaller = h.gql(ENGINE, undefined, { 'x-auth-token': SECOND_TOKEN }).then((response) => ({ response, ms: performance.now() - started }));

    const { calls, seconds } = await inFirstSecond;
    expect(calls).toBeLessThanOrEqual(RATE + RATE * seconds);

    // With most of the flood still waiting for tokens, the accepted caller's calls go as they come.
    const accepted: Array<GqlResponse<any>> = [];
    for (let i = 0; i < 5; i += 1) accepted.push(await h.gql(ENGINE));
    const madeUpWhenAcceptedDone = madeUpCalls();

    const responses = await Promise.all(flood);
    const { response: first, ms } = await newCaller;

    for (const response of accepted) expect(response.body).toEqual({ data: { engine: { id: SEED.engines.big, name: expect.any(String) } } });
    expect(callsOf(DEMO_TOKEN)).toBe(5);
    expect(madeUpWhenAcceptedDone).toBeLessThan(FLOOD);
    // Each made-up token cost one call, answered 401: the queue held them all within their deadline.
    for (const response of responses) expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
    expect(madeUpCalls()).toBe(FLOOD);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data).toEqual({ engine: { id: SEED.engines.big, name: expect.any(String) } });
    expect(ms).toBeLessThan(DEADLINE_MS);
  }, 40_000);
});

describe('a flood of made-up tokens larger than the strangers’ queue', () => {
  it('is refused at once past the queue (OVERLOADED), the rest answered 401 one call each at the rate', async () => {
    const rate = 5;
    const h = await startHarness({ ...CACHES_OFF, CSE_MAX_STRANGER_CALLS_PER_S: String(rate), CSE_MAX_QUEUE_PER_CALLER: '10' });
    try {
      const madeUpCalls = () => h.simulator.callCount();
      const started = performance.now();
      const inFirstSecond = firstSecond(madeUpCalls, started);
      const flood = await Promise.all(
        Array.from({ length: FLOOD }, (_, i) =>
          h.gql(ENGINE, undefined, { 'x-auth-token': `made-up-${String(i).padStart(3, '0')}` }).then((response) => ({ response, ms: performance.now() - started })),
        ),
      );
      const { calls, seconds } = await inFirstSecond;
      expect(calls).toBeLessThanOrEqual(rate + rate * seconds);
      const refused = flood.filter(({ response }) => response.body.errors?.[0]?.extensions?.reason === 'OVERLOADED');
      const answered = flood.filter(({ response }) => errorCodes(response)[0] === 'UNAUTHENTICATED');
      for (const { response } of refused) expect(response.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE' }) })]);
      for (const { response } of answered) expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
      expect(refused.length + answered.length).toBe(FLOOD);
      expect(refused.length).toBeGreaterThan(0);
      expect(answered.length).toBe(madeUpCalls());
      // Refused without waiting for the queue to move.
      expect(Math.max(...refused.map(({ ms }) => ms))).toBeLessThan(Math.max(...answered.map(({ ms }) => ms)));
    } finally {
      await h.close();
    }
  });
});

/** Each made-up token's request: refused past the queue (OVERLOADED, some at least), else its one call's 401. */
function expectShedOrRefused(answered: ReadonlyArray<GqlResponse<any>>): void {
  const refused = answered.filter((r) => r.body.errors?.[0]?.extensions?.reason === 'OVERLOADED');
  expect(refused.length).toBeGreaterThan(0);
  for (const r of answered) expect(errorCodes(r)).toEqual([refused.includes(r) ? 'UPSTREAM_UNAVAILABLE' : 'UNAUTHENTICATED']);
}

describe('a flood of made-up tokens from one address', () => {
  it('is refused past its address’s quarter of the queue, and a new real caller from another address waits behind that quarter alone', async () => {
    const rate = 10;
    const queue = 80;
    const quarter = queue / 4;
    // More than the queue: without each address's quarter, the new caller would be refused.
    const flood = 100;
    const h = await startHarness({ ...CACHES_OFF, CSE_MAX_STRANGER_CALLS_PER_S: String(rate), CSE_MAX_QUEUE_PER_CALLER: String(queue), REQUEST_TIMEOUT_MS: '30000' });
    try {
      const started = performance.now();
      const responses = Array.from({ length: flood }, (_, i) => h.gql(ENGINE, undefined, { 'x-auth-token': `made-up-${String(i).padStart(3, '0')}` }));
      // Another client: the same gateway, from another loopback address.
      const { body: first } = await h.gql(ENGINE, undefined, { 'x-auth-token': SECOND_TOKEN }, '127.0.0.2');
      const seconds = (performance.now() - started) / 1000;
      const answered = await Promise.all(responses);

      expect(first).toEqual({ data: { engine: { id: SEED.engines.big, name: expect.any(String) } } });
      // Behind the flood's quarter (its tokens and its own), not the whole queue (queue / rate seconds); the
      // margin is for the flood's requests ahead of it on this test's event loop, which the gateway shares.
      expect(seconds).toBeLessThan((quarter + 1) / rate + (queue - quarter) / rate / 2);
      expectShedOrRefused(answered);
    } finally {
      await h.close();
    }
  }, 40_000);
});

describe('a flood of made-up tokens from several addresses', () => {
  it('keeps the whole queue full, and a new real caller from yet another address gets a place (the largest holder gives way) and starts behind one call of each flooding address', async () => {
    const rate = 20;
    const queue = 40;
    const h = await startHarness({ ...CACHES_OFF, CSE_MAX_STRANGER_CALLS_PER_S: String(rate), CSE_MAX_QUEUE_PER_CALLER: String(queue), REQUEST_TIMEOUT_MS: '30000' });
    try {
      // Four loopback addresses, each sending faster than the rate: the queue stays full all along.
      const addresses = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
      const responses: Array<Promise<GqlResponse<any>>> = [];
      let flooding = true;
      const floods = addresses.map(async (from, a) => {
        for (let i = 0; flooding; i += 1) {
          responses.push(h.gql(ENGINE, undefined, { 'x-auth-token': `made-up-${a}-${i}` }, from));
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const started = performance.now();
      const newCaller = h.gql(ENGINE, undefined, { 'x-auth-token': SECOND_TOKEN }, '127.0.0.5').then((response) => ({ response, ms: performance.now() - started }));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      flooding = false;
      await Promise.all(floods);
      const { response, ms } = await newCaller;
      const answered = await Promise.all(responses);

      expect(response.body).toEqual({ data: { engine: { id: SEED.engines.big, name: expect.any(String) } } });
      // The queue is served by address in turn: behind a call of each flooding address and its own token, not the
      // whole queue (queue / rate seconds); the margin is for the floods' requests on this test's event loop.
      expect(ms).toBeLessThan(((addresses.length + 1) / rate) * 1000 + ((queue / rate) * 1000) / 2);
      expectShedOrRefused(answered);
    } finally {
      await h.close();
    }
  }, 40_000);
});

describe('subscription polls of made-up tokens', () => {
  it.each([
    ['one address', 1],
    ['four addresses', 4],
  ])('from %s hold their subscribers’ addresses’ quarters of the queue: a new real caller’s first poll from another address waits behind one call of each', async (_name, addresses) => {
    const rate = 5;
    const queue = 40;
    // A failed poll is retried after twice the interval: a first poll shed would wait past the bound below.
    const pollMs = 4000;
    const h = await startHarness({
      ...CACHES_OFF,
      CSE_MAX_STRANGER_CALLS_PER_S: String(rate),
      CSE_MAX_QUEUE_PER_CALLER: String(queue),
      REQUEST_TIMEOUT_MS: '30000',
      SUBSCRIPTION_POLL_MS: String(pollMs),
      SUBSCRIPTION_KEEPALIVE_MS: '0',
    });
    const engineId = SEED.engines.onePage;
    const job = h.simulator.startJob(engineId);
    const subscribe = (id: string) => ({ type: 'subscribe', id, payload: { query: WATCH, variables: { engineId, id: String(job.id) } } });
    const sockets: ProtocolSocket[] = [];
    let flooding = true;
    try {
      // Clients open two sockets with new made-up tokens every 40 ms, each subscribing at once: ten times the
      // polls the rate lets start, while the new caller waits (below each address's cap of sockets). From four
      // addresses, their quarters fill the queue.
      const flood = (async () => {
        for (let i = 0; flooding && i < 200; i += 2) {
          const pair = [i, i + 1].map((n) =>
            protocolSocket(h.gateway.url, { 'X-Auth-Token': `made-up-${String(n).padStart(4, '0')}-${'x'.repeat(8)}` }, `127.0.0.${2 + (n % addresses)}`),
          );
          for (const socket of await Promise.all(pair)) {
            sockets.push(socket);
            socket.burst([subscribe('flood')]);
          }
          await sleep(40);
        }
      })();
      await sleep(1000);
      const started = performance.now();
      // A real token the gateway has not seen: its socket is admitted among the strangers, and its first poll is a
      // stranger's call until the upstream answers it.
      const caller = await protocolSocket(h.gateway.url, { 'X-Auth-Token': SECOND_TOKEN }, '127.0.0.1');
      sockets.push(caller);
      caller.burst([subscribe('mine')]);
      await eventually(() => caller.received.some((message) => message.id === 'mine'), 'the new caller’s first state', 2 * pollMs + 2000).catch(() => {});
      const ms = performance.now() - started;
      flooding = false;
      await flood;

      expect(caller.received.find((message) => message.id === 'mine')).toEqual({
        type: 'next',
        id: 'mine',
        payload: { data: { jobUpdated: { id: String(job.id) } } },
      });
      // The queue is served by address in turn: behind a call of each flooding address and its own token, not
      // their quarters (a quarter of the queue each: queue / 4 / rate seconds for one), well before a shed first
      // poll's retry.
      expect(ms).toBeLessThan(((addresses + 1) / rate) * 1000 + pollMs / 2);
    } finally {
      flooding = false;
      for (const socket of sockets) socket.socket.close();
      await h.close();
    }
  }, 40_000);
});
