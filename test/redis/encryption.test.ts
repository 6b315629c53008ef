import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { SEED, type Simulator } from '@cse-jobs-gateway/simulator';
import { startGatewayOn, type GatewayHarness } from '../support/harness';
import { collect, sleep } from '../support/liveClient';
import { describeWithRedis, type RedisServer } from '../support/redisServer';
import { fleetClients, fleetPolls, knownTo, postAs, PREFIX, replicaEnv, untilRedis, useRedisSuite } from '../support/replicas';

/**
 * REDIS_ENCRYPTION_KEY on replicas sharing one Redis and one simulator: what they write is
 * sealed (AES-256-GCM), they read each other's values, and a replica with another key reads
 * nothing of theirs — a miss, never an error.
 */

const POLL_MS = 200;
const KEY = randomBytes(32).toString('base64');
const OTHER_KEY = randomBytes(32).toString('base64url');
const JOB = `subscription Watch($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id status description } }`;
const engineId = SEED.engines.onePage;
/** What the simulated job carries that must not be readable in Redis. */
const DESCRIPTION = 'quarterly-payroll-recompute-7f3a';

/** The levels of the log lines a gateway wrote (pino: 50 error, 60 fatal). */
function levels(gateway: GatewayHarness): number[] {
  return gateway.logs.map((line) => (JSON.parse(line) as { level: number }).level);
}

describeWithRedis('encrypted values in Redis (REDIS_ENCRYPTION_KEY)', () => {
  let redis: RedisServer;
  let inspector: Redis;
  let simulator: Simulator;
  let gateways: GatewayHarness[];
  const { client, disposeAll } = fleetClients();

  useRedisSuite((suite) => ({ redis, inspector, simulator } = suite));
  beforeEach(async () => {
    gateways = [];
  });
  afterEach(async () => {
    await disposeAll();
    await Promise.all(gateways.map((gateway) => gateway.close()));
  });

  async function replica(key: string | undefined): Promise<GatewayHarness> {
    const encryption: Record<string, string> = key === undefined ? {} : { REDIS_ENCRYPTION_KEY: key };
    const gateway = await startGatewayOn(simulator, replicaEnv(redis, { SUBSCRIPTION_POLL_MS: String(POLL_MS), ...encryption }));
    gateways.push(gateway);
    return gateway;
  }


  function persisted(name: string) {
    const query = `query ${name} { engine(id: "${SEED.engines.big}") { id name } }`;
    const hash = createHash('sha256').update(query).digest('hex');
    return { query, hash, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } };
  }

  it('finds on B an APQ document registered on A, and Redis holds it sealed, not as its text', async () => {
    const [a, b] = await Promise.all([replica(KEY), replica(KEY)]);
    await untilRedis([a, b], 1);
    const { query, hash, extensions } = persisted('SealedEngineName');
    await knownTo(a);
    const registered = await postAs(a, { query, extensions });
    expect(registered.errors).toBeUndefined();
    const onB = await postAs(b, { extensions });
    expect(onB).toEqual(registered);

    const raw = await inspector.get(`${PREFIX}apq:${hash}`);
    expect(raw).toMatch(/^gw1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+$/);
    for (const fragment of ['SealedEngineName', SEED.engines.big, 'engine', '{']) expect(raw).not.toContain(fragment);
    // The key's value, in either alphabet, is nowhere in Redis or the logs.
    const everything = [...(await inspector.keys('*')), raw, ...a.logs, ...b.logs].join('\n');
    for (const shown of [KEY, Buffer.from(KEY, 'base64').toString('base64url'), KEY.slice(0, 12)]) expect(everything).not.toContain(shown);
    expect(a.logs.join('\n')).toContain('values written to Redis are encrypted');
  });

  it('serves on B a page A fetched, from answers Redis holds sealed: no job field, and one moved to another key does not open', async () => {
    const [a, b] = await Promise.all([replica(KEY), replica(KEY)]);
    await untilRedis([a, b], 1);
    const page = `query Page($id: ID!, $first: Int) { engine(id: $id) { jobs(first: $first) { edges { node { id type status } } } } }`;
    const onA = await a.gql(page, { id: SEED.engines.big, first: 3 });
    expect(onA.body.errors).toBeUndefined();
    const calls = simulator.callCount();
    const onB = await b.gql(page, { id: SEED.engines.big, first: 3 });
    expect(onB.text).toBe(onA.text);
    expect(simulator.callCount()).toBe(calls);

    const answers = await inspector.keys(`${PREFIX}*:answer:*`);
    expect(answers.length).toBeGreaterThan(0);
    const jobs = (onA.body.data as { engine: { jobs: { edges: Array<{ node: { id: string } }> } } }).engine.jobs.edges;
    for (const key of answers) {
      const raw = (await inspector.get(key)) ?? '';
      // `<generation>\n` and the sealed value: the generation is all Redis's scripts read.
      expect(raw).toMatch(/^\d+\ngw1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+$/);
      for (const { node } of jobs) for (const field of [node.id, 'status', 'total', 'RUNNING']) expect(raw).not.toContain(field);
    }
    // The first page's answer copied over another page's key: sealed for one call, it opens for no other.
    const other = await a.gql(page, { id: SEED.engines.big, first: 4 });
    expect(other.body.errors).toBeUndefined();
    const [moved] = (await inspector.keys(`${PREFIX}*:answer:*`)).filter((key) => !answers.includes(key));
    const firstPage = answers.find((key) => key !== moved)!;
    await inspector.set(moved!, (await inspector.get(firstPage))!, 'PX', 60_000);
    const fresh = await replica(KEY);
    await untilRedis([fresh], 1);
    const before = simulator.callCount({ route: 'listJobs' });
    const answersOnFresh = await Promise.all([fresh.gql(page, { id: SEED.engines.big, first: 3 }), fresh.gql(page, { id: SEED.engines.big, first: 4 })]);
    expect(answersOnFresh.map((answer) => answer.text)).toEqual([onA.text, other.text]);
    // One page came from Redis; the moved one did not open and was fetched again.
    expect(simulator.callCount({ route: 'listJobs' })).toBe(before + 1);
  });

  it('does not use, on a replica with another key, the APQ document sealed with the first: PERSISTED_QUERY_NOT_FOUND, no crash, no error log', async () => {
    const [a, c] = await Promise.all([replica(KEY), replica(OTHER_KEY)]);
    await untilRedis([a, c], 1);
    const { query, hash, extensions } = persisted('OtherKeyEngineName');
    await Promise.all([knownTo(a), knownTo(c)]);
    expect((await postAs(a, { query, extensions })).errors).toBeUndefined();
    const sealedByA = await inspector.get(`${PREFIX}apq:${hash}`);
    expect(sealedByA).not.toBeNull();

    const onC = await postAs(c, { extensions });
    expect(onC.errors?.map((error) => error.extensions.code)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    // C registers it again (its client sends the document), and then serves it from its own seal.
    const again = await postAs(c, { query, extensions });
    expect(again.errors).toBeUndefined();
    expect(await postAs(c, { extensions })).toEqual(again);
    expect(await inspector.get(`${PREFIX}apq:${hash}`)).not.toBe(sealedByA);
    // Nothing was logged at error level or above.
    for (const gateway of [a, c]) expect(levels(gateway).filter((level) => level >= 50)).toEqual([]);
  });

  it('delivers the poller\'s results, sealed on their channel, to a listener replica: no job field readable on the channel', async () => {
    const [a, b] = await Promise.all([replica(KEY), replica(KEY)]);
    await untilRedis([a, b], 1);
    const raw = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await raw.connect();
    const messages: string[] = [];
    raw.on('pmessage', (_pattern: string, _channel: string, message: string) => messages.push(message));
    await raw.psubscribe(`${PREFIX}*:polls:*`);
    try {
      const job = simulator.startJob(engineId, { taskCount: 2, description: DESCRIPTION, createUser: 'alice-the-operator' });
      const subs = [a, b].map((gateway) => collect(client(gateway), JOB, { engineId, id: String(job.id) }));
      await Promise.all(subs.map((sub) => sub.next(1)));
      await sleep(3 * POLL_MS);
      simulator.advanceJob(engineId, job.id);
      await Promise.all(subs.map((sub) => sub.next(2)));
      for (const sub of subs) expect(sub.results[1]!.data?.jobUpdated).toEqual({ id: String(job.id), status: 'INIT', description: DESCRIPTION });

      // One polled for both and the other listened; on a loaded host the lease may pass from one to the
      // other, so each may have had both roles, but results went over the channel and nobody polled alone.
      const roles = await Promise.all([a, b].map(async (gateway) => ({ poller: await fleetPolls(gateway, 'poller'), listener: await fleetPolls(gateway, 'listener'), local: await fleetPolls(gateway, 'local') })));
      expect(roles.some((role) => role.listener > 0)).toBe(true);
      expect(roles.every((role) => role.local === 0)).toBe(true);

      expect(messages.length).toBeGreaterThan(0);
      for (const message of messages) {
        expect(message).toMatch(/^gw1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+$/);
        for (const plain of [DESCRIPTION, 'alice-the-operator', 'PreInit', '"status"', String(job.id)]) expect(message).not.toContain(plain);
      }
    } finally {
      raw.disconnect();
    }
  });

  it('keeps a listener with another key getting changes: what it cannot open is not delivered, and it polls for its own subscribers', async () => {
    const a = await replica(KEY);
    await untilRedis([a], 1);
    const job = simulator.startJob(engineId, { taskCount: 2 });
    const first = collect(client(a), JOB, { engineId, id: String(job.id) });
    await first.next(1);
    // A is the poller (it took the lease at a tick with Redis up); C (another key) joins as a listener.
    while ((await fleetPolls(a, 'poller')) === 0) await sleep(POLL_MS / 4);
    const c = await replica(OTHER_KEY);
    await untilRedis([a, c], 1);
    const second = collect(client(c), JOB, { engineId, id: String(job.id) });
    await second.next(1);
    await sleep(3 * POLL_MS);
    simulator.advanceJob(engineId, job.id);
    await Promise.all([first.next(2), second.next(2)]);
    for (const sub of [first, second]) expect(sub.results[1]!.data?.jobUpdated.status).toBe('INIT');
    expect(await fleetPolls(c, 'local')).toBeGreaterThan(0);
    for (const gateway of [a, c]) expect(levels(gateway).filter((level) => level >= 50)).toEqual([]);
  });
});
