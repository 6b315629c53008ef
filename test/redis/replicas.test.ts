import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { DEMO_TOKEN, OTHER_TOKEN, SECOND_TOKEN, SEED, type Simulator } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startGatewayOn, type GatewayHarness, type GqlResponse } from '../support/harness';
import { eventually } from '../support/liveClient';
import { describeWithRedis, type RedisServer } from '../support/redisServer';
import { failures, fleetPolls, knownTo, postAs, PREFIX, replicaEnv, replicas, untilRedis, useRedisSuite } from '../support/replicas';

/**
 * Three replicas on one Redis and one simulator (the upstream): what one replica learned from the
 * upstream the others use, and Redis failing never fails an operation. Counts are the simulator's
 * own: upstream calls actually made.
 */

const PAGE = `query Page($id: ID!, $first: Int) { engine(id: $id) { jobs(first: $first) { edges { node { id status } } totalCount } } }`;
/** Resolves once the simulator has received `n` listJobs calls (fails past 5 s). */
function untilListCalls(simulator: Simulator, n: number): Promise<void> {
  return eventually(() => simulator.callCount({ route: 'listJobs' }) >= n, `${n} listJobs call(s) at the simulator`);
}

function logMessages(gateway: GatewayHarness): string[] {
  return gateway.logs.map((line) => JSON.parse(line) as { msg: string }).map((line) => line.msg);
}

describeWithRedis('replicas sharing state through Redis', () => {
  let redis: RedisServer;
  let inspector: Redis;
  let simulator: Simulator;
  useRedisSuite((suite) => ({ redis, inspector, simulator } = suite));

  describe('with caches on (the defaults)', () => {
    let fleet: GatewayHarness[];
    beforeAll(async () => {
      fleet = await replicas(simulator, redis);
      await untilRedis(fleet, 1);
    });
    afterAll(() => Promise.all(fleet.map((gateway) => gateway.close())));

    it('serves on B a page A fetched, from Redis, without an upstream call', async () => {
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
    });

    it('keeps in memory on B what B read from Redis: a repeat on B asks neither Redis nor the upstream', async () => {
      const [a, b] = fleet as [GatewayHarness, GatewayHarness];
      const id = SEED.engines.big;
      await a.gql(PAGE, { id, first: 6 });
      const calls = simulator.callCount();
      // Another document, the same upstream page: B's whole-response cache cannot answer it.
      const total = `query Total($id: ID!, $first: Int) { engine(id: $id) { jobs(first: $first) { totalCount } } }`;
      const fromRedis = await b.gql(total, { id, first: 6 });
      expect(fromRedis.body.errors).toBeUndefined();
      const scripts = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await inspector.info('commandstats'))?.[1] ?? 0);
      const before = await scripts();
      const again = await b.gql(PAGE, { id, first: 6 });
      expect(again.body.errors).toBeUndefined();
      expect(await scripts()).toBe(before);
      expect(simulator.callCount()).toBe(calls);
    });

    it('answers a repeat on B whole, though B built its answer from what Redis kept', async () => {
      const [a, b] = fleet as [GatewayHarness, GatewayHarness];
      await a.gql(PAGE, { id: SEED.engines.big, first: 8 });
      const calls = simulator.callCount();
      const built = await b.gql(PAGE, { id: SEED.engines.big, first: 8 });
      expect(built.headers.age).toBeUndefined();
      const repeat = await b.gql(PAGE, { id: SEED.engines.big, first: 8 });
      expect(repeat.text).toBe(built.text);
      expect(repeat.headers.age).toBeDefined();
      expect(simulator.callCount()).toBe(calls);
    });

    it('never gives another token what the first one cached, and keeps no token in Redis', async () => {
      const [a, b] = fleet as [GatewayHarness, GatewayHarness];
      await a.gql(PAGE, { id: SEED.engines.big, first: 5 });
      const listCalls = simulator.callCount({ route: 'listJobs' });
      const second = await b.gql(PAGE, { id: SEED.engines.big, first: 5 }, { 'x-auth-token': SECOND_TOKEN });
      expect(second.body.errors).toBeUndefined();
      // Same project, same URL, another token: its own upstream call.
      expect(simulator.callCount({ route: 'listJobs' })).toBe(listCalls + 1);
      // A token of another project is refused by the upstream, not served what DEMO_TOKEN cached.
      const other = await b.gql(PAGE, { id: SEED.engines.big, first: 5 }, { 'x-auth-token': OTHER_TOKEN });
      expect(other.body.data?.engine ?? null).toBeNull();
      expect(simulator.callCount()).toBeGreaterThan(listCalls + 1);

      const keys = await inspector.keys('*');
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        expect(key.startsWith(PREFIX)).toBe(true);
        for (const token of [DEMO_TOKEN, SECOND_TOKEN, OTHER_TOKEN]) expect(key).not.toContain(token);
      }
      for (const key of keys.filter((name) => name.includes(':answer:'))) {
        const value = (await inspector.get(key)) ?? '';
        for (const token of [DEMO_TOKEN, SECOND_TOKEN, OTHER_TOKEN]) expect(value).not.toContain(token);
        // Every key the gateway writes expires (Redis may run with maxmemory-policy volatile-lru).
        expect(await inspector.pttl(key)).toBeGreaterThan(0);
      }
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
      expect(await inspector.exists(`${PREFIX}apq:${hash}`)).toBe(1);
    });
  });

  describe.each([
    ['', {}],
    [', with encrypted values', { REDIS_ENCRYPTION_KEY: randomBytes(32).toString('base64') }],
    // The page B keeps in memory is too large for Redis: only B's acceptance vouches for the scope.
    [', its answer too large for Redis', { REDIS_MAX_VALUE_BYTES: '1024' }],
  ])('a token the upstream refuses on one replica%s', (_, env: Record<string, string>) => {
    let fleet: GatewayHarness[];
    beforeAll(async () => {
      fleet = await replicas(simulator, redis, { CACHE_ENGINE_TTL_MS: '600000', CACHE_LIST_TTL_MS: '600000', ...env });
      await untilRedis(fleet, 1);
    });
    afterAll(() => Promise.all(fleet.map((gateway) => gateway.close())));

    it('is served nothing more from the memory of the others: they hear of the refusal at once', async () => {
      const [a, b] = fleet as [GatewayHarness, GatewayHarness];
      const second = { 'x-auth-token': SECOND_TOKEN };
      const engine = (id: string) => `{ engine(id: "${id}") { id name } }`;
      const told: string[] = [];
      const listener = inspector.duplicate();
      await listener.subscribe(`${PREFIX}refusals`);
      listener.on('message', (_channel: string, text: string) => told.push(text));
      // Made-up tokens, refused: no replica ever vouched for them, so the fleet is told nothing.
      for (let i = 0; i < 5; i += 1) {
        const made = await a.gql(engine(SEED.engines.big), undefined, { 'x-auth-token': `made-up-token-${i}-000000000000` });
        expect(errorCodes(made)).toEqual(['UNAUTHENTICATED']);
      }
      const page = `{ engine(id: "${SEED.engines.big}") { jobs(first: 30) { nodes { id status } } } }`;
      const first = await b.gql(page, undefined, second);
      expect(first.body.errors).toBeUndefined();
      expect((await b.gql(page, undefined, second)).text).toBe(first.text);
      simulator.injectFault({ status: 401 });
      // A asks the upstream about an engine nobody kept: refused.
      expect(errorCodes(await a.gql(engine(SEED.engines.single), undefined, second))).toEqual(['UNAUTHENTICATED']);
      // Within CACHE_AUTH_RECHECK_MS of its own acceptance B would have served what it keeps.
      await eventually(async () => {
        const again = await b.gql(page, undefined, second);
        return errorCodes(again).includes('UNAUTHENTICATED');
      }, 'B refusing the token');
      expect(told).toHaveLength(1);
      listener.disconnect();
    });
  });

  describe('a refusal while another replica waits on the upstream', () => {
    let fleet: GatewayHarness[];
    beforeAll(async () => {
      fleet = await replicas(simulator, redis, { CACHE_ENGINE_TTL_MS: '600000' });
      await untilRedis(fleet, 1);
    });
    afterAll(() => Promise.all(fleet.map((gateway) => gateway.close())));

    it('is not served from the memory of the replica whose call the upstream had accepted first', async () => {
      const [a, b] = fleet as [GatewayHarness, GatewayHarness];
      const engine = (id: string, alias = 'engine') => `{ ${alias}: engine(id: "${id}") { id name } }`;
      // A's call is slow; the token is refused meanwhile, on B, with no vouch in Redis to delete.
      simulator.injectFault({ route: 'getEngine', engineId: SEED.engines.big, latencyMs: 2500, times: 1 });
      let answered = false;
      const slow = a.gql(engine(SEED.engines.big)).finally(() => (answered = true));
      await eventually(() => simulator.callCount({ route: 'getEngine', engineId: SEED.engines.big }) === 1, "A's call at the upstream");
      simulator.injectFault({ status: 401 });
      expect(errorCodes(await b.gql(engine(SEED.engines.single)))).toEqual(['UNAUTHENTICATED']);
      // Else A's answer would have renewed the vouch first, and B's refusal been published.
      expect(answered).toBe(false);
      expect((await slow).body.errors).toBeUndefined();
      // Another document over the same upstream answer: A asks the upstream, which refuses.
      await eventually(async () => errorCodes(await a.gql(engine(SEED.engines.big, 'again'))).includes('UNAUTHENTICATED'), 'A refusing the token');
    });
  });

  describe('APQ documents of one caller', () => {
    let gateway: GatewayHarness;
    beforeAll(async () => {
      gateway = await startGatewayOn(simulator, replicaEnv(redis));
      await untilRedis([gateway], 1);
    });
    afterAll(() => gateway.close());

    it("keep in Redis no more of a replica's writing than its own registry holds (8 MiB), each for an hour", async () => {
      // 200 KB of comment a document, from a token the gateway knows (a stranger's are not registered): 48
      // of them are 9.6 MB.
      const comment = `#${'x'.repeat(200_000)}`;
      await knownTo(gateway);
      const hashes: string[] = [];
      for (let i = 0; i < 48; i += 1) {
        const query = `{ __typename }\n${comment}${i}`;
        const hash = createHash('sha256').update(query).digest('hex');
        hashes.push(hash);
        const extensions = { persistedQuery: { version: 1, sha256Hash: hash } };
        const response = await request(gateway.gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_TOKEN },
          body: JSON.stringify({ query, extensions }),
        });
        expect(response.statusCode).toBe(200);
        await response.body.dump();
      }
      const keys = hashes.map((hash) => `${PREFIX}apq:${hash}`);
      let bytes = 0;
      await eventually(async () => {
        const lengths = await Promise.all(keys.map((key) => inspector.strlen(key)));
        bytes = lengths.reduce((sum, length) => sum + length, 0);
        return bytes <= 8 * 1024 * 1024;
      }, 'the APQ keys within 8 MiB');
      expect(bytes).toBeGreaterThan(7 * 1024 * 1024);
      expect(await inspector.exists(keys[0]!)).toBe(0);
      const last = await inspector.pttl(keys.at(-1)!);
      expect(last).toBeGreaterThan(3_500_000);
      expect(last).toBeLessThanOrEqual(3_600_000);
    });
  });

  describe('with a short list TTL', () => {
    const TTL_MS = 250;
    let fleet: GatewayHarness[];
    beforeAll(async () => {
      fleet = await replicas(simulator, redis, { CACHE_LIST_TTL_MS: String(TTL_MS) });
      await untilRedis(fleet, 1);
    });
    afterAll(() => Promise.all(fleet.map((gateway) => gateway.close())));

    it('keeps a hot page at one upstream call per TTL for the whole fleet, as one replica would', async () => {
      const id = SEED.engines.big;
      const answers: Array<GqlResponse<unknown>> = [];
      const started = Date.now();
      // Two seconds and more than 100 answers: a loaded host answers fewer in the same time.
      const client = async (i: number) => {
        const more = () => Date.now() - started < 2000 || answers.length <= 100;
        for (let n = 0; more(); n += 1) answers.push(await fleet[(i + n) % 3]!.gql(PAGE, { id, first: 4 }));
      };
      await Promise.all(Array.from({ length: 12 }, (_, i) => client(i)));
      const elapsed = Date.now() - started;
      expect(failures(answers)).toEqual([]);
      expect(answers.length).toBeGreaterThan(100);
      // The first call, then at most one per TTL window: each expiry is noticed by every replica at
      // about the same time and one of them calls; its answer is kept in the same script that
      // releases its lease, so no replica finds neither and calls again.
      expect(simulator.callCount({ route: 'listJobs' })).toBeLessThanOrEqual(Math.floor(elapsed / TTL_MS) + 1);
    });
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
    });

    it('lets another replica take the call over once the lease of a holder that died expires', async () => {
      const id = SEED.engines.big;
      // Learn the lease key of this call from a real holder …
      simulator.injectFault({ route: 'listJobs', engineId: id, latencyMs: 300, times: 1 });
      const holder = fleet[0]!.gql(PAGE, { id, first: 9 });
      await untilListCalls(simulator, 1);
      const leases = await inspector.keys(`${PREFIX}*:lease:*`);
      expect(leases).toHaveLength(1);
      await holder;
      await inspector.flushall();
      // … then plant the lease of a replica that died: never renewed, never handed over.
      await inspector.set(leases[0]!, 'dead-replica', 'PX', 400);
      const calls = simulator.callCount({ route: 'listJobs' });
      const started = Date.now();
      const waiter = await fleet[1]!.gql(PAGE, { id, first: 9 });
      const waited = Date.now() - started;
      expect(failures([waiter])).toEqual([]);
      expect(simulator.callCount({ route: 'listJobs' })).toBe(calls + 1);
      // It waited for the lease to lapse, and not much longer.
      expect(waited).toBeGreaterThanOrEqual(350);
      expect(waited).toBeLessThan(1500);
    });

    it('never waits for another replica past its own deadline', async () => {
      const id = SEED.engines.big;
      simulator.injectFault({ route: 'listJobs', engineId: id, latencyMs: 300, times: 1 });
      const holder = fleet[0]!.gql(PAGE, { id, first: 13 });
      await untilListCalls(simulator, 1);
      const leases = await inspector.keys(`${PREFIX}*:lease:*`);
      await holder;
      await inspector.flushall();
      // A dead holder's lease that outlives the waiter's whole operation (REQUEST_TIMEOUT_MS).
      await inspector.set(leases[0]!, 'dead-replica', 'PX', 60_000);
      // REDIS_TIMEOUT_MS as replicas() sets it: a lookup late past the default would make it work alone.
      const short = await startGatewayOn(simulator, replicaEnv(redis, { ...CACHES_OFF, REQUEST_TIMEOUT_MS: '400' }));
      try {
        await untilRedis([short], 1);
        const started = Date.now();
        const waiter = await short.gql(PAGE, { id, first: 13 });
        expect(Date.now() - started).toBeLessThan(1200);
        expect(waiter.body.errors?.map((error) => error.extensions?.code)).toContain('UPSTREAM_TIMEOUT');
      } finally {
        await short.close();
      }
    });

    it('keeps serving, with zero failed operations, while Redis is killed under load, and shares again once it is back', async () => {
      const id = SEED.engines.big;
      const answers: Array<GqlResponse<unknown>> = [];
      let stop = false;
      const client = async (i: number) => {
        for (let n = 0; !stop; n += 1) answers.push(await fleet[(i + n) % 3]!.gql(PAGE, { id, first: 1 + ((i + n) % 20) }));
      };
      const load = Promise.all(Array.from({ length: 12 }, (_, i) => client(i)));
      // Counted, not timed: a loaded host answers fewer in a given time.
      await eventually(() => answers.length >= 12, 'operations served before the kill');
      const atKill = answers.length;
      await redis.kill();
      await untilRedis(fleet, 0);
      const atOutage = answers.length;
      await eventually(() => answers.length - atOutage > 20, 'operations served during the outage', 10_000);
      stop = true;
      await load;
      // Operations ran before, across and after the outage began, and none failed.
      expect(atKill).toBeGreaterThan(0);
      expect(answers.length - atKill).toBeGreaterThan(20);
      expect(failures(answers)).toEqual([]);
      for (const gateway of fleet) {
        expect(gateway.gateway.readiness.state).toEqual({ ready: true });
        // One line for the change, not one per failed command.
        expect(logMessages(gateway).filter((msg) => msg.startsWith('Redis unavailable'))).toHaveLength(1);
      }

      await redis.start();
      await untilRedis(fleet, 1);
      simulator.reset();
      simulator.injectFault({ route: 'listJobs', engineId: id, latencyMs: 300, times: 1 });
      const again = await Promise.all(fleet.map((gateway) => gateway.gql(PAGE, { id, first: 11 })));
      expect(failures(again)).toEqual([]);
      expect(simulator.callCount({ route: 'listJobs' })).toBe(1);
      for (const gateway of fleet) expect(logMessages(gateway)).toContain('Redis reachable again: sharing with other replicas resumes');
    });
  });
});
