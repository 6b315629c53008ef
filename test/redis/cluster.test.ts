import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { createLogger } from '../../src/observability/logger';
import { UNAVAILABLE } from '../../src/cache/secondLevel';
import { RedisLink } from '../../src/redis/RedisLink';
import { createRedisMetrics, type RedisMetrics } from '../../src/redis/redisMetrics';
import { DEMO_PROJECT_ID, DEMO_TOKEN, SECOND_TOKEN, SEED, startSimulator, type Simulator } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, type GatewayHarness } from '../support/harness';
import { collect, eventually, liveClient, sleep } from '../support/liveClient';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redisServer';
import { failures, fleetPolls, PREFIX, postAs, replicas, untilRedis } from '../support/replicas';

/** `gateway_redis_up` of `link`: what operators see of its state. */
const isUp = async (link: RedisLink) => (await link.options.metrics.up.get()).values[0]?.value === 1;

/**
 * The replicas on a Redis Cluster (REDIS_CLUSTER=true): a redis-server with `--cluster-enabled
 * yes` that serves all 16384 slots alone. One node still refuses any command or script whose keys
 * are in different slots (CROSSSLOT), so every shared feature working here — with no Redis
 * command refused — shows that each command and script keeps to the keys of one hash tag. A
 * six-node cluster, with a master killed under load, is clusterFailover.test.ts.
 */

const PAGE = `query Page($id: ID!, $first: Int) { engine(id: $id) { jobs(first: $first) { edges { node { id status } } totalCount } } }`;
const JOB = `subscription Watch($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id status } }`;
const POLL_MS = 200;
const WINDOW_MS = 2000;
/** Intervals in the window, plus one for a poll that straddles its edge. */
const ONE_PER_INTERVAL = Math.ceil(WINDOW_MS / POLL_MS) + 1;

/** What a replica's /metrics says of Redis: `gateway_redis_up`, and every non-zero `gateway_redis_errors_total` series. */
async function redisHealth(gateway: GatewayHarness): Promise<{ up: number | undefined; errors: string[] }> {
  const response = await request(gateway.gateway.url.replace(/\/graphql$/, '/metrics'));
  const text = await response.body.text();
  const up = /^gateway_redis_up (\S+)$/m.exec(text)?.[1];
  const errors = [...text.matchAll(/^gateway_redis_errors_total(\{[^}]*\})? (\S+)$/gm)]
    .filter((series) => Number(series[2]) > 0)
    .map((series) => `${series[1] ?? ''} ${series[2]}`);
  return { up: up === undefined ? undefined : Number(up), errors };
}

/** The direct proof: the cluster refused none of the commands any replica sent, and each is up. */
async function expectNothingRefused(fleet: GatewayHarness[]): Promise<void> {
  for (const gateway of fleet) expect(await redisHealth(gateway)).toEqual({ up: 1, errors: [] });
}

describeWithRedis('replicas on a Redis Cluster (REDIS_CLUSTER=true, one redis-server node serving every slot)', () => {
  let redis: RedisServer;
  /** A plain connection to the one node: it serves every slot, so it reads every key. */
  let node: Redis;
  let simulator: Simulator;
  beforeAll(async () => {
    redis = await startRedisServer({ cluster: true });
    node = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    node.on('error', () => undefined);
    await node.connect();
    simulator = await startSimulator();
  });
  afterAll(async () => {
    node.disconnect();
    await simulator.close();
    await redis.kill();
  });
  beforeEach(async () => {
    simulator.reset();
    await node.flushall();
  });

  it('runs as a cluster that refuses a script or a command whose keys are in different slots', async () => {
    expect(String(await node.call('CLUSTER', 'INFO'))).toContain('cluster_state:ok');
    const [one, two, sameTag] = ['t:{one}:a', 't:{two}:a', 't:{one}:b'];
    expect(await node.call('CLUSTER', 'KEYSLOT', one)).not.toEqual(await node.call('CLUSTER', 'KEYSLOT', two));
    const lua = `redis.call('set', KEYS[1], ARGV[1]); redis.call('set', KEYS[2], ARGV[1]); return 1`;
    await expect(node.eval(lua, 2, one, two, 'v')).rejects.toThrow(/CROSSSLOT/);
    await expect(node.mget(one, two)).rejects.toThrow(/CROSSSLOT/);
    // Keys of one hash tag are one slot: the same script runs.
    await expect(node.eval(lua, 2, one, sameTag, 'v')).resolves.toBe(1);
  });

  describe('with caches off', () => {
    let fleet: GatewayHarness[];
    beforeAll(async () => {
      fleet = await replicas(simulator, redis, CACHES_OFF);
      await untilRedis(fleet, 1);
    });
    afterAll(() => Promise.all(fleet.map((gateway) => gateway.close())));

    it('makes 30 identical concurrent queries spread over three replicas one upstream call', async () => {
      const id = SEED.engines.big;
      const alone = await fleet[0]!.gql(PAGE, { id, first: 20 });
      simulator.reset();
      simulator.injectFault({ route: 'listJobs', engineId: id, latencyMs: 400, times: 1 });
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => fleet[i % 3]!.gql(PAGE, { id, first: 20 }, { 'x-request-id': `q-${i}` })));
      expect(simulator.callCount({ route: 'listJobs' })).toBe(1);
      expect(failures(answers)).toEqual([]);
      for (const answer of answers) expect(answer.text).toBe(alone.text);
      await expectNothingRefused(fleet);
    });
  });

  describe('with caches on (the defaults)', () => {
    let fleet: GatewayHarness[];
    let clients: Client[] = [];
    beforeAll(async () => {
      fleet = await replicas(simulator, redis, { SUBSCRIPTION_POLL_MS: String(POLL_MS) });
      await untilRedis(fleet, 1);
    });
    afterEach(async () => {
      await Promise.all(clients.map((client) => client.dispose()));
      clients = [];
    });
    afterAll(() => Promise.all(fleet.map((gateway) => gateway.close())));

    it('connects every replica to the cluster', () => {
      for (const gateway of fleet) {
        const lines = gateway.logs.map((line) => JSON.parse(line) as { msg: string; cluster?: boolean; redis?: string });
        expect(lines.find((line) => line.msg === 'sharing state with other replicas through Redis')).toMatchObject({ cluster: true, redis: `${redis.url}` });
      }
    });

    it('serves on B a page A fetched, from Redis, without an upstream call; a scope keeps its keys in one slot', async () => {
      const [a, b, c] = fleet as [GatewayHarness, GatewayHarness, GatewayHarness];
      const first = await a.gql(PAGE, { id: SEED.engines.big, first: 7 });
      expect(first.body.errors).toBeUndefined();
      const calls = simulator.callCount();
      expect(calls).toBeGreaterThan(0);
      const onB = await b.gql(PAGE, { id: SEED.engines.big, first: 7 });
      const onC = await c.gql(PAGE, { id: SEED.engines.big, first: 7 });
      expect(onB.text).toBe(first.text);
      expect(onC.text).toBe(first.text);
      expect(simulator.callCount()).toBe(calls);

      // A second token: a second scope, under another hash tag.
      const other = await b.gql(PAGE, { id: SEED.engines.big, first: 7 }, { 'x-auth-token': SECOND_TOKEN });
      expect(other.body.errors).toBeUndefined();
      const slotsByTag = new Map<string, Set<unknown>>();
      for (const key of await node.keys(`${PREFIX}*`)) {
        const tag = /\{([^}]+)\}/.exec(key)?.[1];
        expect(tag).toBeDefined();
        const slots = slotsByTag.get(tag!) ?? new Set<unknown>();
        slots.add(await node.call('CLUSTER', 'KEYSLOT', key));
        slotsByTag.set(tag!, slots);
      }
      expect(slotsByTag.size).toBe(2);
      for (const slots of slotsByTag.values()) expect(slots.size).toBe(1);
      expect(new Set([...slotsByTag.values()].flatMap((slots) => [...slots])).size).toBe(2);

      // A token the upstream refuses (a 401: a 403 denies one resource and ends nothing) moves its
      // scope's generation on (the forget script).
      const refused = await c.gql(PAGE, { id: SEED.engines.big, first: 7 }, { 'x-auth-token': 'made-up-token-000000000001' });
      expect(refused.body.data?.engine ?? null).toBeNull();
      expect((await node.keys(`${PREFIX}*:gen`)).length).toBeGreaterThan(0);
      await expectNothingRefused(fleet);
    });

    it('finds on B an APQ document registered on A', async () => {
      const [a, b] = fleet as [GatewayHarness, GatewayHarness];
      const query = `query EngineName { engine(id: "${SEED.engines.big}") { id name } }`;
      const hash = createHash('sha256').update(query).digest('hex');
      const extensions = { persistedQuery: { version: 1, sha256Hash: hash } };
      const before = await postAs(b, { extensions });
      expect(before.errors?.map((error) => error.extensions.code)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
      const registered = await postAs(a, { query, extensions });
      expect(registered.errors).toBeUndefined();
      const onB = await postAs(b, { extensions });
      expect(onB).toEqual(registered);
      expect(await node.exists(`${PREFIX}apq:${hash}`)).toBe(1);
      await expectNothingRefused(fleet);
    });

    it('polls a job watched on three replicas from one of them, and the others get its results through cluster pub/sub', async () => {
      const engineId = SEED.engines.onePage;
      const job = simulator.startJob(engineId, { taskCount: 2 });
      const subs = fleet.map((gateway) => {
        const client = liveClient(gateway.gateway.url, { connectionParams: { 'X-Auth-Token': DEMO_TOKEN, 'X-Project-Id': DEMO_PROJECT_ID } });
        clients.push(client);
        return collect(client, JOB, { engineId, id: String(job.id) });
      });
      await Promise.all(subs.map((sub) => sub.next(1)));
      expect(subs.map((sub) => sub.results[0]!.data?.jobUpdated.status)).toEqual(['PRE_INIT', 'PRE_INIT', 'PRE_INIT']);

      const pollsBefore = await Promise.all(fleet.map((gateway) => fleetPolls(gateway, 'poller')));
      const callsBefore = simulator.calls.length;
      await sleep(WINDOW_MS);
      const calls = simulator.calls.length - callsBefore;
      const pollsAfter = await Promise.all(fleet.map((gateway) => fleetPolls(gateway, 'poller')));
      // One replica polled for all three: about one call per interval, not three.
      expect(pollsAfter.filter((after, i) => after > pollsBefore[i]!)).toHaveLength(1);
      expect(calls).toBeGreaterThanOrEqual(WINDOW_MS / POLL_MS / 2);
      expect(calls).toBeLessThanOrEqual(ONE_PER_INTERVAL);
      // The other two listened, and none had to poll alone.
      const listened = await Promise.all(fleet.map((gateway) => fleetPolls(gateway, 'listener')));
      expect(listened.filter((count) => count > 0)).toHaveLength(2);
      for (const gateway of fleet) expect(await fleetPolls(gateway, 'local')).toBe(0);

      // A change reaches every subscriber, the listeners' through the poller's published result.
      simulator.advanceJob(engineId, job.id);
      await Promise.all(subs.map((sub) => sub.next(2)));
      for (const sub of subs) expect(sub.results[1]!.data?.jobUpdated.status).toBe('INIT');

      // Each replica leaving deletes its entries, and the poller its lease (the leave script).
      expect(await node.keys(`${PREFIX}*:poller:*`)).toHaveLength(1);
      for (const sub of subs) sub.stop();
      const end = Date.now() + 2000;
      while ((await node.keys(`${PREFIX}*:poller:*`)).length > 0 || (await node.keys(`${PREFIX}*:watch:*`)).length > 0) {
        if (Date.now() > end) throw new Error('the poller lease or watch entries outlived their subscribers');
        await sleep(20);
      }
      await expectNothingRefused(fleet);
    });
  });

  describe('RedisLink on the cluster', () => {
    const links: RedisLink[] = [];
    afterEach(async () => {
      await Promise.all(links.map((link) => link.close()));
      links.length = 0;
    });

    async function clusterLink(url = redis.url): Promise<{ link: RedisLink; metrics: RedisMetrics; messages: () => string[] }> {
      const logs: string[] = [];
      const destination = new Writable({
        write(chunk, _encoding, done) {
          logs.push(String(chunk));
          done();
        },
      });
      const metrics = createRedisMetrics(new Registry());
      const link = new RedisLink({ url, cluster: true, keyPrefix: 't:', timeoutMs: 100, maxValueBytes: 1024, logger: createLogger('info', destination), metrics });
      links.push(link);
      await eventually(() => isUp(link), 'the link up');
      return { link, metrics, messages: () => logs.map((line) => (JSON.parse(line) as { msg: string }).msg) };
    }

    it('runs a script on the keys of one hash tag, and counts a cross-slot one as a failed command', async () => {
      const { link, metrics } = await clusterLink();
      const pair = link.script('clusterTestPair', 2, `redis.call('set', KEYS[1], ARGV[1]); redis.call('set', KEYS[2], ARGV[1]); return 1`);
      expect(await pair('test', ['t:{a}:1', 't:{a}:2'], ['v'])).toBe(1);
      expect(await node.get('t:{a}:2')).toBe('v');
      expect(await pair('test', ['t:{a}:1', 't:{b}:2'], ['v'])).toBe(UNAVAILABLE);
      expect((await metrics.errors.get()).values).toEqual([expect.objectContaining({ labels: { op: 'test' }, value: 1 })]);
    });

    it("connects to the cluster's nodes as the URL's user, with its password (percent-decoded)", async () => {
      const password = 's:cret@1';
      await node.call('ACL', 'SETUSER', 'gw-test', 'on', `>${password}`, '~*', '&*', '+@all');
      try {
        const { link } = await clusterLink(`redis://gw-test:${encodeURIComponent(password)}@127.0.0.1:${redis.port}`);
        expect(await link.run('test', (client) => client.call('ACL', 'WHOAMI'))).toBe('gw-test');
        expect(await link.run('test', (client) => client.set('t:{a}:1', 'v'))).toBe('OK');
      } finally {
        await node.call('ACL', 'DELUSER', 'gw-test');
      }
    });

    it('bounds a command, and close(), while the node hangs (SIGSTOP)', async () => {
      const { link } = await clusterLink();
      redis.pause();
      try {
        const started = performance.now();
        expect(await link.run('test', (client) => client.get('t:{a}:1'))).toBe(UNAVAILABLE);
        const took = performance.now() - started;
        expect(took).toBeGreaterThanOrEqual(90);
        expect(took).toBeLessThan(500);
        const closing = performance.now();
        await link.close();
        expect(performance.now() - closing).toBeLessThan(600);
      } finally {
        redis.resume();
      }
    });

    it('fails at once while the node is down, says so once each way, and reconnects by itself when it is back', async () => {
      const { link, messages } = await clusterLink();
      await redis.kill();
      await eventually(async () => !(await isUp(link)), 'the link down');
      const started = performance.now();
      expect(await link.run('test', (client) => client.get('t:{a}:1'))).toBe(UNAVAILABLE);
      expect(performance.now() - started).toBeLessThan(50);
      await sleep(500); // several reconnection attempts fail meanwhile
      await redis.start();
      await eventually(() => isUp(link), 'the link up again', 10_000);
      expect(await link.run('test', (client) => client.set('t:{a}:1', 'v'))).toBe('OK');
      expect(messages().filter((msg) => msg.startsWith('Redis unavailable'))).toHaveLength(1);
      expect(messages().filter((msg) => msg.startsWith('Redis reachable again'))).toHaveLength(1);
      // The plain connection of the other tests is back too before the next beforeEach.
      await eventually(() => node.status === 'ready', 'the node ready', 10_000);
    });
  });
});
