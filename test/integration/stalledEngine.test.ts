import { SECOND_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';
import { eventually } from '../support/liveClient';

/**
 * One engine that stops answering must not starve the others: its calls hold at most their share
 * of the in-flight slots and of the queue (CSE_MAX_INFLIGHT_PER_ENGINE, CSE_MAX_QUEUE_PER_ENGINE),
 * and a queued call that gets its slot after the engine's breaker opened is not sent to it.
 */

const SLOW = SEED.engines.big;
const OTHER = SEED.engines.single;
const job = (engineId: string, id: number) => `{ job(engineId: "${engineId}", id: "${id}") { id } }`;

describe('a stalled engine', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      ...CACHES_OFF,
      CSE_MAX_INFLIGHT: '8',
      CSE_MAX_QUEUE: '16',
      CSE_MAX_INFLIGHT_PER_ENGINE: '2',
      CSE_MAX_QUEUE_PER_ENGINE: '4',
      // Per caller, the whole: this test is about engines.
      CSE_MAX_INFLIGHT_PER_CALLER: '8',
      CSE_MAX_QUEUE_PER_CALLER: '16',
      // Room for three turns of the stalled engine's two slots (below).
      CSE_TIMEOUT_MS: '10000',
      REQUEST_TIMEOUT_MS: '10000',
      CSE_BREAKER_FAILURES: '1000',
    });
    // The token is known to the upstream (see CredentialGate): its calls go out together.
    await h.gql(job(OTHER, 1));
  });
  afterAll(() => h.close());

  it("holds no more than its share: other engines' callers are served at once, its own extra calls are shed", async () => {
    h.simulator.resetCalls();
    // Longer than the 30 requests take to arrive on a loaded host: the first two still hold their
    // slots. Only those two stall: the four queued behind them answer at once when their turn comes.
    h.simulator.injectFault({ route: 'getJob', engineId: SLOW, latencyMs: 2500, times: 2 });
    const stalled = Array.from({ length: 30 }, (_, i) => h.gql(job(SLOW, 1000 + i)));
    // While the slow engine's calls are pending, another engine answers, without OVERLOADED.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    const other = await h.gql(`{ a: ${job(OTHER, 2).slice(1, -1)} b: engine(id: "${OTHER}") { id } }`);
    expect(performance.now() - started).toBeLessThan(1200);
    expect(other.body.errors).toBeUndefined();
    const results = await Promise.all(stalled);
    // 2 ran, 4 waited; the other 24 were refused at once rather than fill every slot and the queue.
    const shed = results.filter((r) => errorCodes(r).length === 1 && r.body.errors![0]!.extensions!.reason === 'OVERLOADED');
    expect(shed).toHaveLength(24);
    expect(h.simulator.callCount({ route: 'getJob', engineId: SLOW })).toBe(6);
    h.simulator.clearFaults();
  });
});

describe('a breaker that opens while calls wait for a slot', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      ...CACHES_OFF,
      CSE_MAX_INFLIGHT: '8',
      CSE_MAX_INFLIGHT_PER_ENGINE: '2',
      CSE_MAX_QUEUE_PER_ENGINE: '6',
      CSE_MAX_INFLIGHT_PER_CALLER: '8',
      CSE_TIMEOUT_MS: '300',
      CSE_RETRIES: '0',
      // The first timeout opens the engine's breaker.
      CSE_BREAKER_FAILURES: '1',
      CSE_BREAKER_OPEN_MS: '60000',
    });
    await h.gql(job(OTHER, 1));
  });
  afterAll(() => h.close());

  it('refuses the queued calls with CIRCUIT_OPEN instead of sending them to the engine', async () => {
    h.simulator.resetCalls();
    h.simulator.injectFault({ route: 'getJob', engineId: SLOW, latencyMs: 2000 });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => h.gql(job(SLOW, 2000 + i))));
    const reasons = results.map((r) => r.body.errors?.[0]?.extensions?.reason ?? errorCodes(r)[0]);
    // The two that ran timed out (the first opened the breaker); the six queued behind them never went.
    expect(reasons.filter((reason) => reason === 'UPSTREAM_TIMEOUT')).toHaveLength(2);
    expect(reasons.filter((reason) => reason === 'CIRCUIT_OPEN')).toHaveLength(6);
    expect(h.simulator.callCount({ route: 'getJob', engineId: SLOW })).toBe(2);
    h.simulator.clearFaults();
  });
});

describe("callers sharing a slow engine's slots", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ...CACHES_OFF, CSE_MAX_INFLIGHT_PER_ENGINE: '1', CSE_TIMEOUT_MS: '10000', REQUEST_TIMEOUT_MS: '20000' });
    // Both tokens known to the upstream: their calls are accepted callers', not strangers'.
    await h.gql(job(OTHER, 1));
    await h.gql(job(OTHER, 1), undefined, { 'x-auth-token': SECOND_TOKEN });
  });
  afterAll(() => h.close());

  it("take turns: another caller's one call waits behind one more call of a caller that queued six, not behind all of them", async () => {
    h.simulator.resetCalls();
    h.simulator.injectFault({ route: 'getJob', engineId: SLOW, latencyMs: 400 });
    const mine = Array.from({ length: 6 }, (_, i) => h.gql(job(SLOW, 1000 + i)));
    await eventually(() => h.simulator.callCount({ route: 'getJob', engineId: SLOW }) === 1, 'the first call', 5000);
    // The other five wait for the engine's one slot meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 150));
    const theirs = h.gql(job(SLOW, 2000), undefined, { 'x-auth-token': SECOND_TOKEN });
    const results = await Promise.all([...mine, theirs]);
    expect(results.flatMap(errorCodes)).toEqual([]);
    const order = h.simulator.calls.filter((call) => call.route === 'getJob' && call.engineId === SLOW).map((call) => call.jobId);
    expect(order).toHaveLength(7);
    expect(order.indexOf('2000')).toBeLessThanOrEqual(2);
    h.simulator.clearFaults();
  });
});
