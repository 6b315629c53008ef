import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import { SEED, type Simulator } from '@cse-jobs-gateway/simulator';
import { UNAVAILABLE } from '../../src/cache/secondLevel';
import { EncryptionKeys } from '../../src/config/encryptionKeys';
import { createLogger } from '../../src/observability/logger';
import { RedisLink } from '../../src/redis/RedisLink';
import { createRedisMetrics } from '../../src/redis/redisMetrics';
import { sharedAnswers } from '../../src/redis/SharedAnswers';
import { errorCodes, startGatewayOn, type GatewayHarness } from '../support/harness';
import { eventually, sleep } from '../support/liveClient';
import { describeWithRedis, type RedisServer } from '../support/redisServer';
import { PREFIX, replicaEnv, untilRedis, useRedisSuite } from '../support/replicas';

/**
 * With REDIS_ENCRYPTION_KEY, a Redis writer without the key (it can SET, PEXPIRE, INCR) serves no
 * replica's caller: an answer it puts back under an old generation, a vouch it forges or puts back,
 * a TTL it lengthens, a value it moves to another key — each is a miss, and the caller's call goes
 * to the upstream, which decides.
 */

const KEY = randomBytes(32);
const ENGINE = `query { engine(id: "${SEED.engines.big}") { id name } }`;

describeWithRedis('sealed answers in Redis against a writer without the key', () => {
  let redis: RedisServer;
  let inspector: Redis;
  let simulator: Simulator;
  let gateway: GatewayHarness | undefined;

  useRedisSuite((suite) => ({ redis, inspector, simulator } = suite));
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  async function replica(env: Record<string, string>): Promise<GatewayHarness> {
    gateway = await startGatewayOn(simulator, replicaEnv(redis, { REDIS_ENCRYPTION_KEY: KEY.toString('base64'), ...env }));
    await untilRedis([gateway], 1);
    return gateway;
  }

  /** The engine's kept answer (once its settle, not awaited by the gateway, has run) and its scope's key prefix. */
  async function keptAnswer(): Promise<{ answer: string; scope: string }> {
    let keys: string[] = [];
    await eventually(async () => (keys = await inspector.keys(`${PREFIX}*:answer:*`)).length === 1, 'the answer kept', 5000);
    return { answer: keys[0]!, scope: keys[0]!.slice(0, keys[0]!.indexOf(':answer:')) };
  }

  it('serves a revoked token nothing a writer put back (the old answer, its generation, a forged or an old vouch): the upstream is asked and refuses', async () => {
    const a = await replica({ CACHE_AUTH_RECHECK_MS: '300', CSE_AUTH_REJECTION_TTL_MS: '0', CACHE_ENGINE_TTL_MS: '600000' });
    expect((await a.gql(ENGINE)).body.errors).toBeUndefined();
    const { answer, scope } = await keptAnswer();
    const [old, oldVouch] = [(await inspector.get(answer))!, (await inspector.get(`${scope}:vouch`))!];
    expect(old).toMatch(/^0\n/);
    // Past CACHE_AUTH_RECHECK_MS the token is asked about again, and the upstream now refuses it.
    await sleep(400);
    simulator.injectFault({ status: 401 });
    expect(errorCodes(await a.gql(ENGINE))).toEqual(['UNAUTHENTICATED']);
    await eventually(async () => (await inspector.get(`${scope}:gen`)) === '1', 'the generation moved on', 5000);

    for (const vouch of ['1', oldVouch]) {
      await inspector.set(`${scope}:gen`, '0');
      await inspector.set(`${scope}:vouch`, vouch, 'PX', 600_000);
      await inspector.set(answer, old, 'PX', 600_000);
      const calls = simulator.callCount();
      expect(errorCodes(await a.gql(ENGINE))).toEqual(['UNAUTHENTICATED']);
      expect(simulator.callCount()).toBe(calls + 1);
    }
  });

  it('does not serve an answer past the expiry sealed with it when a writer lengthened its TTL: the next query asks the upstream', async () => {
    const a = await replica({ CACHE_ENGINE_TTL_MS: '500', CACHE_AUTH_RECHECK_MS: '60000' });
    const first = await a.gql(ENGINE);
    expect(first.body.errors).toBeUndefined();
    const { answer } = await keptAnswer();
    expect(await inspector.pexpire(answer, 600_000)).toBe(1);
    // The replica's own copy and the sealed expiry both pass; Redis would keep the key ten minutes.
    await sleep(700);
    const calls = simulator.callCount({ route: 'getEngine' });
    expect((await a.gql(ENGINE)).text).toBe(first.text);
    expect(simulator.callCount({ route: 'getEngine' })).toBe(calls + 1);
  });

  /** SharedAnswers on a link with the key, Redis up, and the lease of its one call taken by 'holder'. */
  async function sealedAnswers() {
    const link = new RedisLink({
      url: redis.url,
      keyPrefix: 'unit:',
      timeoutMs: 1000,
      maxValueBytes: 4096,
      encryptionKeys: new EncryptionKeys([KEY]),
      logger: createLogger('silent'),
      metrics: createRedisMetrics(new Registry()),
    });
    const answers = sharedAnswers(link, { recheckMs: 60_000, generationTtlMs: 600_000, refusalTtlMs: 20_000, leaseMs: 1000 });
    const call = answers.call('d'.repeat(64), 'the call', true);
    await eventually(async () => (await answers.lookup(call, 'holder', undefined)) !== UNAVAILABLE, 'Redis up', 5000);
    return { link, answers, call };
  }
  const ANSWER = { kind: 'ok', body: { id: 'e' }, requestId: undefined, bytes: 10 } as const;

  it('gives the fleet one call, not one a replica, when a kept answer outlives its sealed life in Redis (settled after it was sealed)', async () => {
    const { link, answers, call } = await sealedAnswers();
    try {
      await answers.settle(call, { token: 'holder', generation: '0' }, ANSWER, 100);
      await inspector.pexpire(call.keys[2], 60_000);
      await sleep(150);
      // The key still reads in Redis, but not as an answer: the first asker calls for the fleet.
      expect(await answers.lookup(call, 'first', undefined)).toMatchObject({ state: 'lease' });
      expect(await answers.lookup(call, 'second', undefined)).toEqual({ state: 'wait', holder: 'first' });
    } finally {
      await link.close();
    }
  });

  it('hands nobody a kept answer a writer copied to a handover key: sealed for its own place, it does not open there', async () => {
    const { link, answers, call } = await sealedAnswers();
    try {
      await answers.settle(call, { token: 'holder', generation: '0' }, ANSWER, 60_000);
      expect(await answers.lookup(call, 'next', undefined)).toMatchObject({ state: 'hit', answer: ANSWER });
      const kept = (await inspector.get(call.keys[2]))!;
      // Where a lookup without a holder looks, then where the waiters of a holder named by the writer look.
      for (const holder of [undefined, 'forged']) {
        await inspector.set(`${call.handover}:${holder ?? '-'}`, kept.slice(kept.indexOf('\n') + 1), 'PX', 600_000);
        await inspector.del(call.keys[1]);
        expect(await answers.lookup(call, 'asker', holder)).toEqual({ state: 'handed', answer: undefined });
      }
    } finally {
      await link.close();
    }
  });
});
