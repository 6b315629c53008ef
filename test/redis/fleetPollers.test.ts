import { Redis } from 'ioredis';
import { DEMO_TOKEN, OTHER_TOKEN, SECOND_TOKEN, SEED, type Simulator } from '@cse-jobs-gateway/simulator';
import type { GatewayHarness } from '../support/harness';
import { collect, eventually, sleep, type Collected } from '../support/liveClient';
import { describeWithRedis, type RedisServer } from '../support/redisServer';
import { fleetClients, fleetPolls, PREFIX, replicas, untilRedis, useRedisSuite } from '../support/replicas';

/**
 * Subscriptions on three replicas sharing one Redis and one simulator: one replica polls each
 * scope and engine for the whole fleet and the others receive its results. Counts are the
 * simulator's own: upstream calls actually made.
 */

const POLL_MS = 150;
const JOB = `subscription Watch($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id status } }`;
const EVENTS = `subscription Events($engineId: ID!) { engineJobEvents(engineId: $engineId) { kind job { id status } } }`;
const engineId = SEED.engines.onePage;
const WINDOW_MS = 1500;
/** Intervals in the window, plus one for a poll that straddles its edge. */
const ONE_PER_INTERVAL = Math.ceil(WINDOW_MS / POLL_MS) + 1;
/**
 * The window of failing polls of the back-off test. A breaker that opens in it stays open to its
 * end, as with the default 10 s, and does not keep the recovery after it waiting.
 */
const FAILING_MS = 2250;
const FLEET_ENV = {
  SUBSCRIPTION_POLL_MS: String(POLL_MS),
  SUBSCRIPTION_MAX_BACKOFF_MS: String(8 * POLL_MS),
  CSE_BREAKER_OPEN_MS: String(FAILING_MS),
};

describeWithRedis('one subscription poller per scope and engine across replicas', () => {
  let redis: RedisServer;
  let inspector: Redis;
  let simulator: Simulator;
  let fleet: GatewayHarness[];
  const { client, disposeAll } = fleetClients();

  useRedisSuite((suite) => ({ redis, inspector, simulator } = suite));
  beforeEach(async () => {
    fleet = await replicas(simulator, redis, FLEET_ENV);
    await untilRedis(fleet, 1);
  });
  afterEach(async () => {
    await disposeAll();
    await Promise.all(fleet.map((gateway) => gateway.close()));
  });


  /** Calls the simulator received during `ms`, from now (optionally those with `token`). */
  type Calls = { all: number; lists: number; details: number; of: (token: string) => number };
  /**
   * The calls made while `ms` pass and, on a loaded host whose polls come late, until `enough` holds;
   * `intervals`: the polling intervals that passed meanwhile, plus one for a poll across an edge.
   */
  async function callsDuring(ms: number, enough: (calls: Calls) => boolean = () => true): Promise<Calls & { intervals: number }> {
    const before = simulator.calls.length;
    const started = Date.now();
    await sleep(ms);
    const counted = (): Calls => {
      const calls = simulator.calls.slice(before);
      const lists = calls.filter((call) => call.route === 'listJobs').length;
      const of = (token: string) => calls.filter((call) => call.headers['x-auth-token'] === token).length;
      return { all: calls.length, lists, details: calls.length - lists, of };
    };
    await eventually(() => enough(counted()), 'the polls a window should see', 10_000);
    return { ...counted(), intervals: Math.ceil((Date.now() - started) / POLL_MS) + 1 };
  }

  /** The replicas that polled for the fleet during `ms`. */
  async function pollersDuring(ms: number): Promise<GatewayHarness[]> {
    const before = await Promise.all(fleet.map((gateway) => fleetPolls(gateway, 'poller')));
    await sleep(ms);
    const after = await Promise.all(fleet.map((gateway) => fleetPolls(gateway, 'poller')));
    return fleet.filter((_, i) => after[i]! > before[i]!);
  }

  /** Advances the job and waits for every subscriber's next result, which must have `status`. */
  async function advanceSeenByAll(subs: Collected[], jobId: Parameters<Simulator['advanceJob']>[1], status: string): Promise<void> {
    const counts = subs.map((sub) => sub.results.length);
    simulator.advanceJob(engineId, jobId);
    await Promise.all(subs.map((sub, i) => sub.next(counts[i]! + 1)));
    for (const sub of subs) expect(sub.results.at(-1)!.data?.jobUpdated.status).toBe(status);
  }

  it('polls one job watched on three replicas once per interval for the whole fleet, and every subscriber gets each change', async () => {
    const job = simulator.startJob(engineId, { taskCount: 2 });
    const subs = fleet.map((gateway) => collect(client(gateway), JOB, { engineId, id: String(job.id) }));
    await Promise.all(subs.map((sub) => sub.next(1)));
    expect(subs.map((sub) => sub.results[0]!.data?.jobUpdated.status)).toEqual(['PRE_INIT', 'PRE_INIT', 'PRE_INIT']);

    const polled = (calls: Calls) => calls.all >= WINDOW_MS / POLL_MS / 2;
    const [calls, pollers] = await Promise.all([callsDuring(WINDOW_MS, polled), pollersDuring(3 * POLL_MS)]);
    // Three replicas polling for themselves would make about three times this.
    expect(calls.all).toBeLessThanOrEqual(calls.intervals);
    expect(pollers).toHaveLength(1);

    await advanceSeenByAll(subs, job.id, 'INIT');
    await advanceSeenByAll(subs, job.id, 'EXECUTING');
    // Nothing changed since: nothing more is sent.
    await sleep(3 * POLL_MS);
    expect(subs.every((sub) => sub.results.length === 3)).toBe(true);
    // Redis holds the digest, never the token.
    for (const key of await inspector.keys('*')) expect(key).not.toContain(DEMO_TOKEN);
  });

  it('serves 50 jobs watched across the replicas with one or two list calls per interval fleet-wide', async () => {
    const jobs = Array.from({ length: 50 }, () => simulator.startJob(engineId));
    const sockets = fleet.map((gateway) => client(gateway));
    const subs = jobs.map((job, i) => collect(sockets[i % 3]!, JOB, { engineId, id: String(job.id) }));
    await Promise.all(subs.map((sub) => sub.next(1)));
    await sleep(2 * POLL_MS); // every replica's watch entries are in the poller's union now

    const calls = await callsDuring(WINDOW_MS, (counted) => counted.lists >= WINDOW_MS / POLL_MS / 2);
    expect(calls.details).toBe(0);
    expect(calls.lists).toBeLessThanOrEqual(2 * calls.intervals);

    const moved = subs.filter((_, i) => i % 7 === 0);
    const counts = moved.map((sub) => sub.results.length);
    for (let i = 0; i < jobs.length; i += 7) simulator.advanceJob(engineId, jobs[i]!.id);
    await Promise.all(moved.map((sub, i) => sub.next(counts[i]! + 1)));
    for (const sub of moved) expect(sub.results.at(-1)!.data?.jobUpdated.status).toBe('INIT');
  });

  it('lets another replica take over within a few seconds when the poller closes, and its subscribers keep getting changes', async () => {
    const job = simulator.startJob(engineId, { taskCount: 2 });
    const subs = fleet.map((gateway) => collect(client(gateway), JOB, { engineId, id: String(job.id) }));
    await Promise.all(subs.map((sub) => sub.next(1)));
    const [poller] = await pollersDuring(3 * POLL_MS);
    expect(poller).toBeDefined();
    const others = fleet.map((gateway, i) => ({ gateway, sub: subs[i]! })).filter(({ gateway }) => gateway !== poller);

    await poller!.close();
    const started = Date.now();
    await advanceSeenByAll(
      others.map(({ sub }) => sub),
      job.id,
      'INIT',
    );
    expect(Date.now() - started).toBeLessThan(3000);
    const remaining = others.map(({ gateway }) => gateway);
    fleet = remaining.concat(poller!); // closed again in teardown: close is idempotent
    const pollers = await Promise.all(remaining.map(async (gateway) => (await fleetPolls(gateway, 'poller')) > 0));
    expect(pollers.filter(Boolean)).toHaveLength(1);
    const calls = await callsDuring(WINDOW_MS);
    expect(calls.all).toBeLessThanOrEqual(calls.intervals);
  });

  it('lets a listener take the lease once the lease of a poller that died lapses', async () => {
    const job = simulator.startJob(engineId, { taskCount: 2 });
    const subs = fleet.map((gateway) => collect(client(gateway), JOB, { engineId, id: String(job.id) }));
    await Promise.all(subs.map((sub) => sub.next(1)));
    const leases = await inspector.keys(`${PREFIX}*:poller:*`);
    expect(leases).toHaveLength(1);
    expect(await inspector.pttl(leases[0]!)).toBeLessThanOrEqual(3 * POLL_MS);
    // A replica that died holding the lease: never renewed, never released.
    await inspector.set(leases[0]!, 'dead-replica', 'PX', 3 * POLL_MS);
    const started = Date.now();
    await sleep(POLL_MS);
    await advanceSeenByAll(subs, job.id, 'INIT');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await inspector.get(leases[0]!)).not.toBe('dead-replica');
  });

  it('backs off as one replica while the upstream fails: the poller keeps its lease, the others do not poll', async () => {
    const job = simulator.startJob(engineId, { taskCount: 2 });
    const subs = fleet.map((gateway) => collect(client(gateway), JOB, { engineId, id: String(job.id) }));
    await Promise.all(subs.map((sub) => sub.next(1)));
    await sleep(2 * POLL_MS); // the listeners' one-off first reads are over
    const clear = simulator.injectFault({ route: 'getJob', status: 503 });
    simulator.advanceJob(engineId, job.id);
    const window = FAILING_MS;
    const pollers = new Set<GatewayHarness>();
    const counting = (async () => {
      for (let waited = 0; waited < window; waited += 3 * POLL_MS) for (const gateway of await pollersDuring(3 * POLL_MS)) pollers.add(gateway);
    })();
    const calls = await callsDuring(window);
    await counting;
    // Backing off: well under one poll per interval (retries included), by one replica.
    expect(calls.all).toBeLessThan((calls.intervals - 1) / 2);
    expect(pollers.size).toBe(1);
    clear();
    await Promise.all(subs.map((sub) => sub.next(2)));
    for (const sub of subs) expect(sub.results[1]!.data?.jobUpdated.status).toBe('INIT');
  }, 20_000);

  it('keeps every subscription getting changes while Redis is killed (each replica polls for itself), and shares again once it is back', async () => {
    const job = simulator.startJob(engineId, { taskCount: 3 });
    const subs = fleet.map((gateway) => collect(client(gateway), JOB, { engineId, id: String(job.id) }));
    await Promise.all(subs.map((sub) => sub.next(1)));

    await redis.kill();
    await untilRedis(fleet, 0);
    await advanceSeenByAll(subs, job.id, 'INIT');
    for (const gateway of fleet) expect(await fleetPolls(gateway, 'local')).toBeGreaterThan(0);
    // Alone, each replica polls for itself: about one call per interval each.
    await callsDuring(WINDOW_MS, (calls) => calls.all > ONE_PER_INTERVAL);

    await redis.start();
    await untilRedis(fleet, 1);
    // Sharing again: over three intervals no replica polled for itself (a loaded host may take longer).
    const localTicks = () => Promise.all(fleet.map((gateway) => fleetPolls(gateway, 'local')));
    const noneLocal = async () => {
      const before = await localTicks();
      await sleep(3 * POLL_MS);
      return (await localTicks()).every((ticks, index) => ticks === before[index]);
    };
    await eventually(noneLocal, 'every replica sharing again', 10_000);
    const shared = await callsDuring(WINDOW_MS);
    expect(shared.all).toBeLessThanOrEqual(shared.intervals);
    await advanceSeenByAll(subs, job.id, 'EXECUTING');
    // None failed or ended.
    for (const sub of subs) expect(sub.results.every((result) => result.errors === undefined)).toBe(true);
  });

  it('keeps every subscription getting changes while Redis hangs (paused), and none fails', async () => {
    const job = simulator.startJob(engineId, { taskCount: 3 });
    const subs = fleet.map((gateway) => collect(client(gateway), JOB, { engineId, id: String(job.id) }));
    await Promise.all(subs.map((sub) => sub.next(1)));
    redis.pause();
    try {
      const started = Date.now();
      await advanceSeenByAll(subs, job.id, 'INIT');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      redis.resume();
    }
    await untilRedis(fleet, 1);
    await advanceSeenByAll(subs, job.id, 'EXECUTING');
    for (const sub of subs) expect(sub.results.every((result) => result.errors === undefined)).toBe(true);
  });

  it('sends engine events on every replica from the one poller: CREATED, CHANGED, one list call per interval', async () => {
    const events = fleet.map((gateway) => collect(client(gateway), EVENTS, { engineId }));
    // The first poll each replica delivers sets what later ones are compared with; it sends nothing.
    await sleep(4 * POLL_MS);
    expect(events.every((stream) => stream.results.length === 0)).toBe(true);
    const job = simulator.startJob(engineId, { taskCount: 1 });
    await Promise.all(events.map((stream) => stream.next(1)));
    for (const stream of events) expect(stream.results[0]!.data?.engineJobEvents).toEqual({ kind: 'CREATED', job: { id: String(job.id), status: 'PRE_INIT' } });
    simulator.advanceJob(engineId, job.id);
    await Promise.all(events.map((stream) => stream.next(2)));
    for (const stream of events) expect(stream.results[1]!.data?.engineJobEvents).toEqual({ kind: 'CHANGED', job: { id: String(job.id), status: 'INIT' } });
    const calls = await callsDuring(WINDOW_MS);
    expect(calls.lists).toBeLessThanOrEqual(calls.intervals);
    expect(calls.details).toBe(0);
  });

  it('ends subscribers on every replica as one alone would: a missing job, a missing engine, a refused token', async () => {
    const missing = fleet.map((gateway) => collect(client(gateway), JOB, { engineId, id: '999999' }));
    const gone = fleet.map((gateway) => collect(client(gateway), EVENTS, { engineId: SEED.engines.gone }));
    const refused = fleet.map((gateway) => collect(client(gateway, OTHER_TOKEN), JOB, { engineId, id: '1' }));
    await Promise.all(missing.map((sub) => sub.done));
    for (const sub of missing) expect(sub.results.map((result) => result.data?.jobUpdated)).toEqual([null]);
    for (const sub of [...gone, ...refused]) await sub.done.catch(() => undefined);
    const code = async (sub: Collected) => ((await sub.done.catch((errors: any[]) => errors)) as any[] | undefined)?.[0]?.extensions?.code;
    expect(await Promise.all(gone.map(code))).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
    expect(await Promise.all(refused.map(code))).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
  });

  it('polls separately for two tokens, each once per interval', async () => {
    const job = simulator.startJob(engineId, { taskCount: 2 });
    const subs = fleet.flatMap((gateway) => [DEMO_TOKEN, SECOND_TOKEN].map((token) => collect(client(gateway, token), JOB, { engineId, id: String(job.id) })));
    await Promise.all(subs.map((sub) => sub.next(1)));
    const tokens = [DEMO_TOKEN, SECOND_TOKEN];
    const calls = await callsDuring(WINDOW_MS, (counted) => tokens.every((token) => counted.of(token) >= WINDOW_MS / POLL_MS / 2));
    for (const token of tokens) expect(calls.of(token)).toBeLessThanOrEqual(calls.intervals);
    await advanceSeenByAll(subs, job.id, 'INIT');
  });

  it('stops polling within about one interval of the last subscriber in the fleet leaving', async () => {
    const job = simulator.startJob(engineId);
    const subs = fleet.map((gateway) => collect(client(gateway), JOB, { engineId, id: String(job.id) }));
    await Promise.all(subs.map((sub) => sub.next(1)));
    for (const sub of subs.slice(0, 2)) sub.stop();
    // One subscriber is left: somebody still polls for it.
    await sleep(4 * POLL_MS);
    await callsDuring(3 * POLL_MS, (calls) => calls.all > 0);
    subs[2]!.stop();
    await sleep(2 * POLL_MS);
    expect((await callsDuring(3 * POLL_MS)).all).toBe(0);
  });
});
