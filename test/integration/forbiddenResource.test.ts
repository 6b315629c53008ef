import { SEED, startSimulator, type Simulator } from '@cse-jobs-gateway/simulator';
import { startHarness, errorCodes, type GatewayHarness, type Harness } from '../support/harness';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redisServer';
import { replicas, untilRedis } from '../support/replicas';

/**
 * Fine-grained IAM answers 403 for one resource (one engine's job list) and serves the rest. A 403
 * denies that resource to the caller, nothing more: the field fails with FORBIDDEN, its answer is
 * never kept, and everything else kept for the caller (the engine list, the other engines' jobs)
 * is still served. Only a 401 (the credentials themselves) ends what was kept.
 */

const REQUESTS = 20;

let h: Harness;
beforeEach(async () => {
  // A gateway per test: nothing kept by one is seen by the next. TTLs long enough that every
  // request below falls within them however slow the machine.
  h = await startHarness({ CACHE_LIST_TTL_MS: '60000', CACHE_ENGINE_TTL_MS: '60000', CACHE_AUTH_RECHECK_MS: '60000', CSE_AUTH_REJECTION_TTL_MS: '0' });
});
afterEach(() => h.close());

interface Dashboard {
  /** The engine list and each of its engines' newest jobs, one field per engine. */
  readonly query: string;
  readonly denied: string;
  readonly others: string[];
  readonly allow: () => void;
}

/** The dashboard over the first five engines (the engine list is kept from here on); the third one's jobs now answer 403. */
async function dashboardWithOneDenied(): Promise<Dashboard> {
  const list = await h.gql('{ engines(first: 5) { nodes { id } } }');
  const ids: string[] = list.body.data.engines.nodes.map((node: { id: string }) => node.id);
  expect(ids).toHaveLength(5);
  const query = `{ engines(first: 5) { nodes { id } } ${ids.map((id, i) => `e${i}: engine(id: "${id}") { jobs(first: 2) { nodes { id } } }`).join(' ')} }`;
  const denied = ids[2]!;
  const allow = h.simulator.injectFault({ route: 'listJobs', engineId: denied, status: 403, dialect: 'apig' });
  h.simulator.resetCalls();
  return { query, denied, others: ids.filter((id) => id !== denied), allow };
}

it("a 5-engine dashboard with one engine's jobs denied: that field fails each time, everything else is kept as usual", async () => {
  const { query, denied, others } = await dashboardWithOneDenied();
  for (let i = 0; i < REQUESTS; i += 1) {
    const response = await h.gql(query);
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    expect(response.body.errors![0]!.path).toEqual(['e2', 'jobs']);
    const data = response.body.data;
    expect(data.engines.nodes).toHaveLength(5);
    expect([data.e0, data.e1, data.e2, data.e3, data.e4].map((engine) => engine !== null)).toEqual([true, true, false, true, true]);
  }
  // The engine list, kept before, is never asked for again; the other engines once each (the
  // first request), kept though every request met a 403; the denied resource once per request.
  expect(h.simulator.callCount({ route: 'listEngines' })).toBe(0);
  for (const id of others) expect(h.simulator.callCount({ engineId: id })).toBeLessThanOrEqual(2);
  expect(h.simulator.callCount({ route: 'listJobs', engineId: denied })).toBe(REQUESTS);
  expect(h.simulator.callCount({ engineId: denied })).toBeLessThanOrEqual(REQUESTS + 1);
});

it('a 401 still ends everything kept for the caller', async () => {
  const { query, denied, allow } = await dashboardWithOneDenied();
  expect(errorCodes(await h.gql(query))).toEqual(['FORBIDDEN']);
  allow();
  h.simulator.injectFault({ route: 'listJobs', engineId: denied, status: 401, dialect: 'apig', errorCode: 'APIG.0301', times: 1 });
  expect(errorCodes(await h.gql(query))).toEqual(['UNAUTHENTICATED']);
  h.simulator.resetCalls();
  const after = await h.gql(query);
  expect(after.body.errors).toBeUndefined();
  expect(h.simulator.callCount({ route: 'listEngines' })).toBe(1);
  expect(h.simulator.callCount({ route: 'listJobs' })).toBe(5);
});

describeWithRedis('with Redis', () => {
  let redis: RedisServer;
  let simulator: Simulator;
  let fleet: GatewayHarness[];
  beforeAll(async () => {
    redis = await startRedisServer();
    simulator = await startSimulator();
    fleet = await replicas(simulator, redis, { CACHE_LIST_TTL_MS: '60000', CACHE_ENGINE_TTL_MS: '60000' });
    await untilRedis(fleet, 1);
  });
  afterAll(async () => {
    await Promise.all(fleet.map((gateway) => gateway.close()));
    await simulator.close();
    await redis.kill();
  });

  const jobsOf = (id: string) => `{ engine(id: "${id}") { jobs(first: 2) { nodes { id } } } }`;

  it("a 403 on one replica purges nothing fleet-wide: another replica still serves the caller's kept answers from Redis", async () => {
    const [a, b, c] = fleet as [GatewayHarness, GatewayHarness, GatewayHarness];
    const kept = SEED.engines.single;
    const denied = SEED.engines.big;
    expect((await a.gql(jobsOf(kept))).body.errors).toBeUndefined();
    simulator.injectFault({ route: 'listJobs', engineId: denied, status: 403, dialect: 'apig' });
    for (let i = 0; i < 3; i += 1) expect(errorCodes(await b.gql(jobsOf(denied)))).toEqual(['FORBIDDEN']);
    simulator.resetCalls();
    // C never asked the upstream for it: what A kept in Redis, under the caller's unchanged generation.
    const fromRedis = await c.gql(jobsOf(kept));
    expect(fromRedis.body.errors).toBeUndefined();
    expect(fromRedis.body.data.engine.jobs.nodes.length).toBeGreaterThan(0);
    expect(simulator.calls).toHaveLength(0);
  });
});

