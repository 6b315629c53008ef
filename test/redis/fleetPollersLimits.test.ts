import { Redis } from 'ioredis';
import { SEED, type Simulator } from '@cse-jobs-gateway/simulator';
import type { GatewayHarness } from '../support/harness';
import { collect, eventually, sleep, type Collected } from '../support/liveClient';
import { describeWithRedis, type RedisServer } from '../support/redisServer';
import { fleetClients, fleetPolls, type FleetRole, PREFIX, replicas, untilRedis, useRedisSuite } from '../support/replicas';

/**
 * The fleet's subscription poller at its limits: a poll slower than its lease (the lease is
 * renewed while it runs, so no second replica polls), and a result larger than
 * REDIS_MAX_VALUE_BYTES (not published: the listeners poll for their own subscribers).
 */

const POLL_MS = 200;
const JOB = `subscription Watch($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id status } }`;
const EVENTS = `subscription Events($engineId: ID!) { engineJobEvents(engineId: $engineId) { kind job { id status } } }`;
const engineId = SEED.engines.onePage;
/** Three ticks: the poller lease's life. A poll this much slower than it would have lost it. */
const LEASE_MS = 3 * POLL_MS;
const SLOW_MS = LEASE_MS + 500;

async function countsOf(fleet: GatewayHarness[], role: FleetRole): Promise<number[]> {
  return Promise.all(fleet.map((gateway) => fleetPolls(gateway, role)));
}

/** Resolves once two replicas (the listeners) have polled for their own subscribers. */
async function untilTwoPollForThemselves(fleet: GatewayHarness[]): Promise<void> {
  const two = async () => (await countsOf(fleet, 'local')).filter((count) => count > 0).length === 2;
  await eventually(two, 'two replicas polling for themselves (local)');
}

describeWithRedis('the fleet poller at its limits', () => {
  let redis: RedisServer;
  let inspector: Redis;
  let simulator: Simulator;
  let fleet: GatewayHarness[];
  const { client, disposeAll } = fleetClients();

  useRedisSuite((suite) => ({ redis, inspector, simulator } = suite));
  beforeEach(async () => {
    fleet = [];
  });
  afterEach(async () => {
    simulator.clearFaults();
    await disposeAll();
    await Promise.all(fleet.map((gateway) => gateway.close()));
  });

  async function start(env: Record<string, string> = {}): Promise<void> {
    fleet = await replicas(simulator, redis, { SUBSCRIPTION_POLL_MS: String(POLL_MS), ...env });
    await untilRedis(fleet, 1);
  }


  /** Advances the job and waits for every subscriber's next result, which must have `status`. */
  async function advanceSeenByAll(subs: Collected[], jobId: Parameters<Simulator['advanceJob']>[1], status: string): Promise<void> {
    const counts = subs.map((sub) => sub.results.length);
    simulator.advanceJob(engineId, jobId);
    await Promise.all(subs.map((sub, i) => sub.next(counts[i]! + 1)));
    for (const sub of subs) expect(sub.results.at(-1)!.data?.jobUpdated.status).toBe(status);
  }

  it('keeps one poller while each of its polls outlasts the lease (renewed during the poll): no listener takes over', async () => {
    await start();
    const job = simulator.startJob(engineId, { taskCount: 3 });
    const subs = fleet.map((gateway) => collect(client(gateway), JOB, { engineId, id: String(job.id) }));
    await Promise.all(subs.map((sub) => sub.next(1)));
    await sleep(2 * POLL_MS); // the listeners' one-off first reads are over
    // Every details call (one job watched: the poll is one details call) now takes longer than the lease lives.
    simulator.injectFault({ route: 'getJob', latencyMs: SLOW_MS });

    const before = await countsOf(fleet, 'poller');
    const calls = simulator.calls.length;
    const window = 3 * SLOW_MS;
    await sleep(window);
    const after = await countsOf(fleet, 'poller');
    // Which replicas polled for the fleet in the window (their indices): one.
    const polled = fleet.map((_, i) => i).filter((i) => after[i]! > before[i]!);
    expect(polled).toHaveLength(1);
    expect(await countsOf(fleet, 'local')).toEqual([0, 0, 0]);
    // One poll in flight at a time: at most one call per slow poll, and one straddling each edge.
    expect(simulator.calls.length - calls).toBeLessThanOrEqual(Math.ceil(window / SLOW_MS) + 1);
    // The lease is the poller's, with its life ahead of it.
    const [lease] = await inspector.keys(`${PREFIX}*:poller:*`);
    expect(await inspector.pttl(lease!)).toBeGreaterThan(0);

    // Every subscriber still gets each change, one slow poll later.
    await advanceSeenByAll(subs, job.id, 'INIT');
  }, 30_000);

  describe('with a tiny REDIS_MAX_VALUE_BYTES (its minimum, 1024)', () => {
    const MAX = 1024;
    let raw: Redis;
    let messages: string[];

    beforeEach(async () => {
      raw = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await raw.connect();
      messages = [];
      raw.on('pmessage', (_pattern: string, _channel: string, message: string) => messages.push(message));
      await raw.psubscribe(`${PREFIX}*:polls:*`);
    });
    afterEach(() => raw.disconnect());

    /** The marker the poller publishes instead of a result too large (plain: no REDIS_ENCRYPTION_KEY here). */
    const isMarker = (message: string) => (JSON.parse(message) as { tooLarge?: boolean }).tooLarge === true;

    it('publishes a small marker instead of a larger result, and each listener polls for its own subscribers: none is starved', async () => {
      await start({ REDIS_MAX_VALUE_BYTES: String(MAX) });
      // One job whose details alone are larger than the bound.
      const job = simulator.startJob(engineId, { taskCount: 2, description: 'd'.repeat(2 * MAX) });
      const subs = fleet.map((gateway) => collect(client(gateway), JOB, { engineId, id: String(job.id) }));
      await Promise.all(subs.map((sub) => sub.next(1)));
      await untilTwoPollForThemselves(fleet);

      await advanceSeenByAll(subs, job.id, 'INIT');
      await advanceSeenByAll(subs, job.id, 'EXECUTING');

      expect(messages.length).toBeGreaterThan(0);
      for (const message of messages) {
        expect(Buffer.byteLength(message)).toBeLessThanOrEqual(MAX);
        expect(isMarker(message)).toBe(true);
        // Not the description (a replica's random id may hold a few d's).
        expect(message).not.toContain('d'.repeat(16));
      }
      // One poller; the two others polled for themselves (local), each about once per interval.
      const pollers = await countsOf(fleet, 'poller');
      const locals = await countsOf(fleet, 'local');
      expect(pollers.filter((count) => count > 0)).toHaveLength(1);
      expect(locals.filter((count) => count > 0)).toHaveLength(2);
      const before = simulator.calls.length;
      await sleep(1000);
      // Three replicas, each about one details call per interval: bounded, as three lone replicas.
      expect(simulator.calls.length - before).toBeLessThanOrEqual(3 * (1000 / POLL_MS + 1));
    }, 30_000);

    it('sends engine events on every replica when the poller\'s list pages are too large to publish', async () => {
      await start({ REDIS_MAX_VALUE_BYTES: String(MAX) });
      const events = fleet.map((gateway) => collect(client(gateway), EVENTS, { engineId }));
      await sleep(5 * POLL_MS);
      expect(events.every((stream) => stream.results.length === 0)).toBe(true);
      const job = simulator.startJob(engineId, { taskCount: 1 });
      await Promise.all(events.map((stream) => stream.next(1)));
      for (const stream of events) expect(stream.results[0]!.data?.engineJobEvents).toEqual({ kind: 'CREATED', job: { id: String(job.id), status: 'PRE_INIT' } });
      simulator.advanceJob(engineId, job.id);
      await Promise.all(events.map((stream) => stream.next(2)));
      for (const stream of events) expect(stream.results[1]!.data?.engineJobEvents).toEqual({ kind: 'CHANGED', job: { id: String(job.id), status: 'INIT' } });
      expect(messages.length).toBeGreaterThan(0);
      for (const message of messages) expect(Buffer.byteLength(message)).toBeLessThanOrEqual(MAX);
      expect(messages.every(isMarker)).toBe(true);
    }, 30_000);

    it('goes back to listening once the results fit again', async () => {
      // A job's details with its tasks take about 1.5 kB: a bound they fit in once the description is short.
      const bound = 4 * MAX;
      await start({ REDIS_MAX_VALUE_BYTES: String(bound) });
      const job = simulator.startJob(engineId, { taskCount: 2, description: 'd'.repeat(2 * bound) });
      const subs = fleet.map((gateway) => collect(client(gateway), JOB, { engineId, id: String(job.id) }));
      await Promise.all(subs.map((sub) => sub.next(1)));
      await untilTwoPollForThemselves(fleet);

      simulator.updateJob(engineId, job.id, { description: 'short' });
      // Once a result is published, both listeners tick as listeners again.
      const before = await countsOf(fleet, 'listener');
      const listening = async () => messages.some((message) => !isMarker(message)) && (await countsOf(fleet, 'listener')).filter((count, i) => count > before[i]!).length === 2;
      await eventually(listening, 'a result published, and two replicas listening again');
      const locals = await countsOf(fleet, 'local');
      const listeners = await countsOf(fleet, 'listener');
      await sleep(5 * POLL_MS);
      // No more local polls; the listeners listen again, and results are published.
      expect(await countsOf(fleet, 'local')).toEqual(locals);
      expect((await countsOf(fleet, 'listener')).filter((count, i) => count > listeners[i]!)).toHaveLength(2);
      expect(messages.some((message) => !isMarker(message))).toBe(true);
      await advanceSeenByAll(subs, job.id, 'INIT');
    }, 30_000);
  });
});
