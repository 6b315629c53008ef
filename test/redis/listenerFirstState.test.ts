import { SEED, type Simulator } from '@cse-jobs-gateway/simulator';
import { startGatewayOn, type GatewayHarness } from '../support/harness';
import { collect, eventually, sleep } from '../support/liveClient';
import { describeWithRedis, type RedisServer } from '../support/redisServer';
import { fleetClients, fleetPolls, replicaEnv, untilRedis, useRedisSuite } from '../support/replicas';

/**
 * A new subscriber on a replica that listens to another's polls gets a job's state at once, also
 * when stored states may not serve it (CACHE_AUTH_RECHECK_MS passed since this replica's gate last
 * saw the token accepted): the listener reads that job once, rather than waiting for the fleet's
 * poller to come to it. The polling interval is long, so waiting for the poller shows.
 */

const JOB = 'subscription ($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id status } }';
const OTHER = 'subscription Other($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id } }';
const engineId = SEED.engines.onePage;
const ENV = { SUBSCRIPTION_POLL_MS: '10000', SUBSCRIPTION_MAX_BACKOFF_MS: '20000', CACHE_AUTH_RECHECK_MS: '200' };

describeWithRedis('a listener replica’s new subscriber', () => {
  let redis: RedisServer;
  let simulator: Simulator;
  let fleet: GatewayHarness[] = [];
  const { client, disposeAll } = fleetClients();

  useRedisSuite((suite) => ({ redis, simulator } = suite));
  afterEach(async () => {
    await disposeAll();
    await Promise.all(fleet.map((gateway) => gateway.close()));
  });


  it('gets the state from one read there once the gate’s recheck has passed, not at the poller’s next interval', async () => {
    fleet = await Promise.all([0, 1].map(() => startGatewayOn(simulator, replicaEnv(redis, ENV))));
    await untilRedis(fleet, 1);
    const [poller, listener] = fleet as [GatewayHarness, GatewayHarness];
    const job = simulator.startJob(engineId);
    const variables = { engineId, id: String(job.id) };
    await collect(client(poller), JOB, variables).next(1);
    expect(await fleetPolls(poller, 'poller')).toBeGreaterThan(0);
    await collect(client(listener), JOB, variables).next(1);
    expect(await fleetPolls(listener, 'listener')).toBeGreaterThan(0);

    await sleep(400);
    simulator.resetCalls();
    // Its group's stored result may not serve it; then a watched job's stored state may not either.
    const same = collect(client(listener), JOB, variables);
    await eventually(() => same.results.length > 0, 'the same group’s new subscriber', 2_000);
    await sleep(400);
    const other = collect(client(listener), OTHER, variables);
    await eventually(() => other.results.length > 0, 'another group’s new subscriber', 2_000);
    expect(same.results[0]!.data?.jobUpdated.status).toEqual(expect.any(String));
    expect(simulator.callCount({ route: 'getJob' })).toBeLessThanOrEqual(2);
  }, 15_000);
});
