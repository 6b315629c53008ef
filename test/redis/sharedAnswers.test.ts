import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { createLogger } from '../../src/observability/logger';
import { redisKeys } from '../../src/redis/redisKeys';
import { RedisLink, SUSPEND_MS, UNAVAILABLE } from '../../src/redis/RedisLink';
import { createRedisMetrics } from '../../src/redis/redisMetrics';
import { SharedAnswers } from '../../src/redis/SharedAnswers';
import type { UpstreamAnswer } from '../../src/upstream/exchange';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redisServer';

/** SharedAnswers' rule and RedisLink's bounds, against a real redis-server. */

const DIGEST = 'a'.repeat(64);
const KEY = `${DIGEST} http://upstream/v2/p/enginemgr/engines?limit=5`;
const ANSWER: UpstreamAnswer = { kind: 'ok', body: { total: 1, data: [{ id: '12345678901234567890' }] }, requestId: 'r-1', bytes: 52 };

describeWithRedis('SharedAnswers and RedisLink against redis-server', () => {
  let redis: RedisServer;
  let link: RedisLink;
  let answers: SharedAnswers;
  const logs: string[] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
    const destination = new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    });
    link = new RedisLink({ url: redis.url, timeoutMs: 100, logger: createLogger('info', destination), metrics: createRedisMetrics(new Registry()) });
    answers = new SharedAnswers(link, redisKeys('unit:'), { recheckMs: 60_000, maxValueBytes: 1024, generationTtlMs: 600_000 });
    const end = Date.now() + 5000;
    while (!link.isUp && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
  });
  afterAll(async () => {
    await link.close();
    await redis.kill();
  });
  beforeEach(() => link.run('test', (client) => client.flushall()));

  it('serves a stored answer (exact digits kept) under the generation it was stored in', async () => {
    const first = await answers.lookup(DIGEST, KEY);
    expect(first).toEqual({ generation: '0', hit: undefined });
    await answers.store(DIGEST, KEY, ANSWER, '0', 5000);
    const second = await answers.lookup(DIGEST, KEY);
    expect(second).toEqual({ generation: '0', hit: { answer: ANSWER, ttlLeftMs: expect.any(Number) } });
  });

  it('serves nothing kept before the upstream refused the scope, and keeps nothing stored under the old generation', async () => {
    await answers.store(DIGEST, KEY, ANSWER, '0', 5000);
    await answers.forget(DIGEST);
    expect(await answers.lookup(DIGEST, KEY)).toEqual({ generation: '1', hit: undefined });
    // A call that looked up before the refusal comes back after it: not stored, no vouch renewed.
    await answers.store(DIGEST, KEY, ANSWER, '0', 5000);
    expect(await answers.lookup(DIGEST, KEY)).toEqual({ generation: '1', hit: undefined });
    await answers.store(DIGEST, KEY, ANSWER, '1', 5000);
    expect((await answers.lookup(DIGEST, KEY)) as { hit: unknown }).toMatchObject({ hit: { answer: ANSWER } });
  });

  it('serves nothing to a scope no replica vouched for within CACHE_AUTH_RECHECK_MS', async () => {
    const neverVouched = new SharedAnswers(link, redisKeys('unit:'), { recheckMs: 0, maxValueBytes: 1024, generationTtlMs: 600_000 });
    await neverVouched.store(DIGEST, KEY, ANSWER, '0', 5000);
    expect(await neverVouched.lookup(DIGEST, KEY)).toEqual({ generation: '0', hit: undefined });
  });

  it('does not write values above the size bound', async () => {
    const big: UpstreamAnswer = { kind: 'ok', body: 'x'.repeat(2000), requestId: undefined, bytes: 2002 };
    await answers.store(DIGEST, KEY, big, '0', 5000);
    expect(await link.run('test', (client) => client.dbsize())).toBe(0);
  });

  it('answers UNAVAILABLE within its timeout while Redis hangs, then skips Redis for a while, and recovers by itself', async () => {
    redis.pause();
    try {
      const started = performance.now();
      expect(await answers.lookup(DIGEST, KEY)).toBe(UNAVAILABLE);
      expect(performance.now() - started).toBeLessThan(300);
      expect(link.isUp).toBe(false);
      // Suspended: not even sent.
      const skipped = performance.now();
      expect(await answers.lookup(DIGEST, KEY)).toBe(UNAVAILABLE);
      expect(performance.now() - skipped).toBeLessThan(20);
    } finally {
      redis.resume();
    }
    await new Promise((resolve) => setTimeout(resolve, SUSPEND_MS + 50));
    expect(await answers.lookup(DIGEST, KEY)).toEqual({ generation: '0', hit: undefined });
    expect(link.isUp).toBe(true);
    const messages = logs.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages.filter((msg) => msg.startsWith('Redis unavailable'))).toHaveLength(1);
    expect(messages).toContain('Redis reachable again: sharing with other replicas resumes');
  });
});
