import { Redis } from 'ioredis';
import { SEED, type Simulator } from '@cse-jobs-gateway/simulator';
import type { CseJob } from '../../src/upstream/types';
import type { GatewayHarness } from '../support/harness';
import { collect, eventually, sleep, type Collected } from '../support/liveClient';
import { describeWithRedis, type RedisServer } from '../support/redisServer';
import { fleetClients, replicas, untilRedis, useRedisSuite } from '../support/replicas';

/**
 * The fleet's poller under the scope's bound (SUBSCRIPTION_MAX_CALLS_PER_POLL holds for the
 * union of what every replica watches), and subscribers after a gap (Redis killed and back while
 * the job moves on) ending with the job's current state.
 */

const POLL_MS = 200;
const MAX_CALLS = 4;
const JOB = `subscription Watch($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id status } }`;

/** The GraphQL enum value of an upstream status (`PreInit` → `PRE_INIT`). */
const statusOf = (job: CseJob) => String(job.status).replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();

describeWithRedis('the fleet poller and the scope bound; subscribers after a gap', () => {
  let redis: RedisServer;
  let inspector: Redis;
  let simulator: Simulator;
  let fleet: GatewayHarness[];
  const { client, disposeAll } = fleetClients();

  useRedisSuite((suite) => ({ redis, inspector, simulator } = suite));
  beforeEach(async () => {
    fleet = await replicas(simulator, redis, { SUBSCRIPTION_POLL_MS: String(POLL_MS), SUBSCRIPTION_MAX_CALLS_PER_POLL: String(MAX_CALLS) });
    await untilRedis(fleet, 1);
  });
  afterEach(async () => {
    await disposeAll();
    await Promise.all(fleet.map((gateway) => gateway.close()));
  });


  it('polls the union of 24 jobs watched across three replicas within the bound per interval, each job in turn', async () => {
    const big = SEED.engines.big;
    // Past the two newest pages: each needs a details call of its own.
    const jobs = Array.from({ length: 24 }, () => simulator.startJob(big));
    simulator.addJobs(big, 210);
    const subs = jobs.map((job, i) => collect(client(fleet[i % 3]!), JOB, { engineId: big, id: String(job.id) }));
    await Promise.all(subs.map((sub) => sub.next(1)));
    // The replicas' first-state reads are over, and one replica polls for the fleet.
    await sleep(3 * POLL_MS);

    simulator.resetCalls();
    // Two passes over the 2 list pages and 24 details calls: the timers of a loaded machine stretch the intervals.
    const intervals = 2 * (Math.ceil((2 + jobs.length) / MAX_CALLS) + 1);
    await sleep(intervals * POLL_MS);
    expect(simulator.calls.length).toBeGreaterThan(0);
    // The whole fleet's calls: the poller's alone, at most the bound per interval (plus one interval the window's edges may cut).
    expect(simulator.calls.length).toBeLessThanOrEqual(MAX_CALLS * (intervals + 1));
    const read = new Set(simulator.calls.filter((call) => call.route === 'getJob').map((call) => call.jobId));
    expect(read).toEqual(new Set(jobs.map((job) => String(job.id))));

    // A change reaches its subscriber, on whichever replica.
    simulator.advanceJob(big, jobs[10]!.id);
    expect((await subs[10]!.next(2))[1]!.data?.jobUpdated.status).toBe('INIT');
  });

  it('with Redis killed and back while the job moves on, every subscriber ends with the job as it is now', async () => {
    const engineId = SEED.engines.onePage;
    const job = simulator.startJob(engineId, { taskCount: 3 });
    const subs: Collected[] = fleet.flatMap((gateway) => [0, 1].map(() => collect(client(gateway), JOB, { engineId, id: String(job.id) })));
    await Promise.all(subs.map((sub) => sub.next(1)));
    const last = () => subs.map((sub) => sub.results.at(-1)?.data?.jobUpdated.status);

    await redis.kill();
    await untilRedis(fleet, 0);
    let now = simulator.advanceJob(engineId, job.id);
    await sleep(2 * POLL_MS);
    await redis.start();
    // Changes while the replicas go back to one poller: listeners subscribe again, the lease is taken.
    for (let i = 0; i < 4; i += 1) {
      now = simulator.advanceJob(engineId, job.id);
      await sleep(POLL_MS / 2);
    }
    await untilRedis(fleet, 1);
    now = simulator.advanceJob(engineId, job.id);
    const expected = statusOf(now);
    await eventually(() => last().every((status) => status === expected), `every subscriber at ${expected} (they are at ${last().join(', ')})`, 10 * POLL_MS * 3);
  }, 30_000);
});

