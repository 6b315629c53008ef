import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { Client } from 'graphql-ws';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createLogger } from '../../src/observability/logger';
import { UNAVAILABLE } from '../../src/cache/secondLevel';
import { RedisLink } from '../../src/redis/RedisLink';
import { createRedisMetrics } from '../../src/redis/redisMetrics';
import { credentialDigest } from '../../src/cache/scopeKey';
import { DEMO_PROJECT_ID, DEMO_TOKEN, SEED, startSimulator, type Simulator } from '@cse-jobs-gateway/simulator';
import type { GatewayHarness, GqlResponse } from '../support/harness';
import { collect, eventually, liveClient, sleep, type Collected } from '../support/liveClient';
import { describeWithRedisCluster, onNode, startRedisCluster, type RedisCluster, type RedisClusterNode } from '../support/redisServer';
import { failures, fleetPolls, PREFIX, replicas, untilRedis } from '../support/replicas';

/** `gateway_redis_up` of `link`: what operators see of its state. */
const isUp = async (link: RedisLink) => (await link.options.metrics.up.get()).values[0]?.value === 1;

/**
 * The replicas on a Redis Cluster of six redis-server processes (three masters, each with a
 * replica), and a master killed (SIGKILL) while they serve a load and a job's subscribers: no
 * operation fails, every subscriber sees the job's statuses in order and its terminal state, and
 * sharing resumes once the replica has taken over. The same over TLS, with the test's own CA.
 */

const PAGE = `query Page($id: ID!, $first: Int) { engine(id: $id) { jobs(first: $first) { edges { node { id status } } totalCount } } }`;
const JOB = `subscription Watch($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id status } }`;
const POLL_MS = 200;
/** The order a job's status takes here, as the subscribers read it. */
const PATH = ['PRE_INIT', 'INIT', 'EXECUTING', 'FINISHED'];
/** The failover fails commands at once (a closed connection, CLUSTERDOWN), whatever REDIS_TIMEOUT_MS. */
const FLEET_ENV = { SUBSCRIPTION_POLL_MS: String(POLL_MS) };

/** Every status a subscriber was sent, in order. */
function statuses(sub: Collected): string[] {
  return sub.results.map((result) => (result.data as { jobUpdated: { status: string } } | undefined)?.jobUpdated.status ?? `error: ${JSON.stringify(result.errors)}`);
}

/** Whether `seen`, repeats dropped, is `PATH` in order with some statuses left out (a gap), from its first to its terminal one. */
function followsPath(seen: string[]): boolean {
  const distinct = seen.filter((status, i) => i === 0 || status !== seen[i - 1]);
  const positions = distinct.map((status) => PATH.indexOf(status));
  return positions[0] === 0 && positions.at(-1) === PATH.length - 1 && positions.every((position, i) => position >= 0 && (i === 0 || position > positions[i - 1]!));
}

/** The nodes a replica's pub/sub connection (the subscriber) is connected to now. */
async function subscriberNodes(cluster: RedisCluster): Promise<RedisClusterNode[]> {
  const live = cluster.nodes.filter((node) => !node.dead);
  const lists = await Promise.all(live.map((node) => onNode(node, (connection) => connection.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).then(String)));
  return live.filter((_, i) => lists[i]!.trim() !== '');
}

/**
 * Moves the replicas' subscriber connections until one is on `target`: each connection killed
 * (`CLIENT KILL TYPE pubsub`) on the other nodes is made again by ioredis on a node it picks at
 * random, subscribed to the same channels. The subscribers see a gap, no more.
 */
async function subscriberOn(cluster: RedisCluster, target: RedisClusterNode): Promise<void> {
  for (let round = 0; round < 50; round++) {
    if ((await subscriberNodes(cluster)).includes(target)) return;
    const others = cluster.nodes.filter((node) => !node.dead && node !== target);
    await Promise.all(others.map((node) => onNode(node, (connection) => connection.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))));
    await sleep(100);
  }
  throw new Error(`no subscriber connection landed on port ${target.port}`);
}

/**
 * The hash tag of every key of the scope the tests use (the demo token and project): its
 * credentials' digest, as src/redis/redisKeys.ts writes it.
 */
const SCOPE_TAG = `{${credentialDigest({ token: DEMO_TOKEN, projectId: DEMO_PROJECT_ID, enterpriseProjectId: undefined })}}`;

/** 30 identical concurrent queries spread over the fleet, the upstream slow enough that they overlap: the upstream calls they cost. */
async function identicalQueries(simulator: Simulator, fleet: GatewayHarness[], first: number): Promise<{ calls: number; failed: unknown[] }> {
  const id = SEED.engines.big;
  simulator.reset();
  simulator.injectFault({ route: 'listJobs', engineId: id, latencyMs: 300, times: 1 });
  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => fleet[i % 3]!.gql(PAGE, { id, first })));
  const texts = new Set(answers.map((answer) => answer.text));
  expect(texts.size).toBe(1);
  return { calls: simulator.callCount({ route: 'listJobs' }), failed: failures(answers) };
}

/** A job watched on every replica (`perReplica` subscribers each), every subscriber past its first state. */
async function watchedJob(simulator: Simulator, fleet: GatewayHarness[], clients: Client[], perReplica: number) {
  const engineId = SEED.engines.onePage;
  const job = simulator.startJob(engineId, { taskCount: 2 });
  const subs = fleet.flatMap((gateway) =>
    Array.from({ length: perReplica }, () => {
      const client = liveClient(gateway.gateway.url, { connectionParams: { 'X-Auth-Token': DEMO_TOKEN, 'X-Project-Id': DEMO_PROJECT_ID } });
      clients.push(client);
      return collect(client, JOB, { engineId, id: String(job.id) });
    }),
  );
  await Promise.all(subs.map((sub) => sub.next(1)));
  return { engineId, job, subs };
}

/** Resolves once every subscriber's last status is `status`; fails past `ms` with what each saw. */
async function untilAllSee(subs: Collected[], status: string, ms = 10_000): Promise<void> {
  await eventually(() => subs.every((sub) => statuses(sub).at(-1) === status), `every subscriber to see ${status}`, ms).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(subs.map(statuses))}`);
  });
}

/** How many replicas ticked in each role over one window of ticks. */
async function rolesOver(fleet: GatewayHarness[], ms: number): Promise<Record<'poller' | 'listener' | 'local', number>> {
  const roles = ['poller', 'listener', 'local'] as const;
  const count = () => Promise.all(fleet.map((gateway) => Promise.all(roles.map((role) => fleetPolls(gateway, role)))));
  const before = await count();
  await sleep(ms);
  const after = await count();
  const ticked = (r: number) => after.filter((counts, i) => counts[r]! > before[i]![r]!).length;
  return { poller: ticked(0), listener: ticked(1), local: ticked(2) };
}

/**
 * Queries from `clients` concurrent clients, round-robin over the replicas and over 20 pages (so
 * that some are misses, some hits, some coalesced), until `stop()`.
 */
function load(fleet: GatewayHarness[], clients: number) {
  const answers: Array<GqlResponse<unknown>> = [];
  let stopped = false;
  const run = async (i: number) => {
    for (let n = 0; !stopped; n += 1) answers.push(await fleet[(i + n) % 3]!.gql(PAGE, { id: SEED.engines.big, first: 1 + ((i + n) % 20) }));
  };
  const running = Promise.all(Array.from({ length: clients }, (_, i) => run(i)));
  return {
    answers,
    async stop() {
      stopped = true;
      await running;
    },
  };
}

function describeFailover(tls: boolean): void {
  let cluster: RedisCluster;
  /** The master that serves the scope's slot, and the replicas' seed node: the one the test kills. */
  let victim: RedisClusterNode;
  let simulator: Simulator;
  let fleet: GatewayHarness[];
  let clients: Client[] = [];
  const links: RedisLink[] = [];
  /** The load of the test that runs one (stopped after it, whatever its outcome). */
  let traffic: ReturnType<typeof load> | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster({ tls, nodeTimeoutMs: 1000 });
    victim = await cluster.masterOf(`${PREFIX}${SCOPE_TAG}:gen`);
    simulator = await startSimulator();
    fleet = await replicas(simulator, { ...cluster, url: cluster.urlOf(victim) }, { ...FLEET_ENV, ...(tls ? { REDIS_TLS_CA_FILE: cluster.caFile! } : {}) });
    await untilRedis(fleet, 1);
  }, 30_000);
  afterEach(async () => {
    await traffic?.stop();
    traffic = undefined;
    await Promise.all(clients.map((client) => client.dispose()));
    clients = [];
  });
  afterAll(async () => {
    await Promise.all(links.map((link) => link.close()));
    await Promise.all((fleet ?? []).map((gateway) => gateway.close()));
    await simulator?.close();
    await cluster?.kill();
  });

  it('makes 30 identical concurrent queries spread over three replicas one upstream call', async () => {
    expect(await identicalQueries(simulator, fleet, 20)).toEqual({ calls: 1, failed: [] });
  });

  if (tls) {
    it.each([true, false])("trusts the nodes' certificates through REDIS_TLS_CA_FILE alone (REDIS_CLUSTER=%s): without it, the link never comes up", async (asCluster) => {
      const ca = readFileSync(cluster.caFile!, 'utf8');
      const link = (tlsCa: string | undefined) => {
        const made = new RedisLink({ url: cluster.url, cluster: asCluster, tlsCa, keyPrefix: 't:', timeoutMs: 1000, maxValueBytes: 1024, logger: createLogger('silent'), metrics: createRedisMetrics(new Registry()) });
        links.push(made);
        return made;
      };
      const [trusting, untrusting] = [link(ca), link(undefined)];
      await eventually(() => isUp(trusting), 'the link with the CA comes up', 3000);
      expect(await trusting.run('test', (client) => client.ping())).toBe('PONG');
      // Time enough for the other to connect (and be refused) several times.
      await sleep(500);
      expect(await isUp(untrusting)).toBe(false);
      expect(await untrusting.run('test', (client) => client.ping())).toBe(UNAVAILABLE);
    });
  }

  it('fails no operation while a master is killed under load; every subscriber sees the statuses in order and the terminal one; sharing resumes', async () => {
    // A link of the replicas' making, seeded like them with the node about to die.
    const link = new RedisLink({ url: cluster.urlOf(victim), cluster: true, tlsCa: tls ? readFileSync(cluster.caFile!, 'utf8') : undefined, keyPrefix: 't:', timeoutMs: 1000, maxValueBytes: 1024, logger: createLogger('silent'), metrics: createRedisMetrics(new Registry()) });
    links.push(link);
    const { engineId, job, subs } = await watchedJob(simulator, fleet, clients, 2);
    traffic = load(fleet, tls ? 6 : 12);
    await sleep(300);
    simulator.advanceJob(engineId, job.id, { to: 'Init' });
    await untilAllSee(subs, 'INIT');
    // The scope's keys (its poller lease, its watchers, its answers) are on the master that dies.
    const keys = await onNode(victim, (connection) => connection.keys(`${PREFIX}${SCOPE_TAG}:*`));
    expect(keys.filter((key) => key.includes(':poller:'))).toHaveLength(1);

    // And so is a listener's subscriber connection: its node leaves while it is subscribed.
    await subscriberOn(cluster, victim);
    const atKill = traffic.answers.length;
    await victim.kill();
    await sleep(200);
    // A change while the slot has no master: the poller's lease and the seed node are gone.
    simulator.advanceJob(engineId, job.id, { to: 'Executing' });
    await cluster.untilHealthy();
    await untilRedis(fleet, 1);
    const atFailover = traffic.answers.length;

    // Sharing resumes with the subscribers still there: one replica polls, the two others listen.
    const sharing = { poller: 1, listener: 2, local: 0 };
    await eventually(async () => isDeepStrictEqual(await rolesOver(fleet, 2 * POLL_MS), sharing), 'one replica polling, two listening', 10_000);
    expect(await rolesOver(fleet, 5 * POLL_MS)).toEqual(sharing);
    // A second connection made now (a listener's first subscriber connection) reaches the cluster
    // without the seed node.
    const copy = link.duplicate();
    try {
      await eventually(() => copy.status === 'ready', 'a copy of the link seeded with a dead node becomes ready', 3000);
    } finally {
      copy.disconnect();
    }

    simulator.advanceJob(engineId, job.id, { to: 'Finished' });
    await untilAllSee(subs, 'FINISHED', 3000);
    await traffic.stop();

    // Operations ran before, across and after the failover, and none failed.
    expect(atKill).toBeGreaterThan(0);
    expect(atFailover).toBeGreaterThan(atKill);
    expect(traffic.answers.length).toBeGreaterThan(atFailover);
    expect(failures(traffic.answers)).toEqual([]);
    for (const sub of subs) expect({ seen: statuses(sub), followsPath: followsPath(statuses(sub)) }).toEqual({ seen: statuses(sub), followsPath: true });

    // Identical queries cost one call again (a page the load did not ask for: it asked for 1 to 20 jobs).
    expect(await identicalQueries(simulator, fleet, 23)).toEqual({ calls: 1, failed: [] });
  });
}

describeWithRedisCluster('replicas on a six-node Redis Cluster (three masters, one replica each)', () => {
  describeFailover(false);
});

describeWithRedisCluster("replicas on a six-node Redis Cluster over TLS (rediss://, the test's own CA)", () => {
  describeFailover(true);
});
