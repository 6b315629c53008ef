import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { createLogger } from '../../src/observability/logger';
import { RedisLink, SUSPEND_MS } from '../../src/redis/RedisLink';
import { createRedisMetrics } from '../../src/redis/redisMetrics';
import { UNAVAILABLE, type Lease } from '../../src/cache/secondLevel';
import { sharedAnswers, type RedisCall, type SharedAnswers } from '../../src/redis/SharedAnswers';
import type { UpstreamAnswer } from '../../src/upstream/stages/types';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redisServer';

/** `gateway_redis_up` of `link`: what operators see of its state. */
const isUp = async (link: RedisLink) => (await link.options.metrics.up.get()).values[0]?.value === 1;

/** The second level's rule (SharedAnswers) and RedisLink's bounds, against a real redis-server. */

const DIGEST = 'a'.repeat(64);
const KEY = `${DIGEST} http://upstream/v2/p/enginemgr/engines?limit=5`;
/** CALL as the second level names it (under the unit tests' prefix; made once the first SharedAnswers exists). */
let CALL: RedisCall;
const OPTIONS = { recheckMs: 60_000, generationTtlMs: 600_000, refusalTtlMs: 20_000, leaseMs: 1000 };
const ANSWER: UpstreamAnswer = { kind: 'ok', body: { total: 1, data: [{ id: '12345678901234567890' }] }, requestId: 'r-1', bytes: 52 };

describeWithRedis('SharedAnswers and RedisLink against redis-server', () => {
  let redis: RedisServer;
  let link: RedisLink;
  let answers: SharedAnswers;
  const logs: string[] = [];
  /** Takes the lease of CALL (failing the test if Redis says anything else). */
  async function leaseOf(shared: SharedAnswers, token: string, call: RedisCall = CALL): Promise<Lease> {
    const looked = await shared.lookup(call, token, undefined);
    if (looked === UNAVAILABLE || looked.state !== 'lease') throw new Error(`expected the lease, got ${JSON.stringify(looked)}`);
    return looked.lease;
  }
  beforeAll(async () => {
    redis = await startRedisServer();
    const destination = new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    });
    link = new RedisLink({ url: redis.url, keyPrefix: 'unit:', timeoutMs: 100, maxValueBytes: 1024, logger: createLogger('info', destination), metrics: createRedisMetrics(new Registry()) });
    answers = sharedAnswers(link, OPTIONS);
    CALL = answers.call(DIGEST, KEY, true);
    const end = Date.now() + 5000;
    while (!(await isUp(link)) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
  });
  afterAll(async () => {
    await link.close();
    await redis.kill();
  });
  beforeEach(() => link.run('test', (client) => client.flushall()));

  it('gives the first asker the lease and the next the holder, and serves the settled answer (exact digits kept) to everyone after', async () => {
    const lease = await leaseOf(answers, 'first');
    expect(lease).toEqual({ token: 'first', generation: '0' });
    expect(await answers.lookup(CALL, 'second', undefined)).toEqual({ state: 'wait', holder: 'first' });
    await answers.settle(CALL, lease, ANSWER, 5000);
    expect(await answers.lookup(CALL, 'second', 'first')).toEqual({ state: 'hit', answer: ANSWER, ttlLeftMs: expect.any(Number), acceptedLeftMs: expect.any(Number) });
    expect(await answers.lookup(CALL, 'third', undefined)).toMatchObject({ state: 'hit', answer: ANSWER });
    // Released: nothing but the kept answer, its vouch and the handover remain.
    expect(await link.run('test', (client) => client.keys('unit:*:lease:*'))).toEqual([]);
  });

  it('hands an answer that is not kept (caches off, not found) to the waiters of its holder only', async () => {
    const uncached: RedisCall = { ...CALL, cacheable: false };
    const lease = await leaseOf(answers, 'holder', uncached);
    const notFound: UpstreamAnswer = { kind: 'not-found', upstream: { status: 400, code: 'CSE.0001' } };
    await answers.settle(uncached, lease, notFound, 0);
    expect(await answers.lookup(uncached, 'waiter', 'holder')).toEqual({ state: 'handed', answer: notFound });
    // A call arriving after the answer exists (it never waited for that holder) makes its own.
    expect(await answers.lookup(uncached, 'late', undefined)).toMatchObject({ state: 'lease' });
  });

  it('tells the waiters of a holder whose call failed to go on alone, and frees the lease', async () => {
    const lease = await leaseOf(answers, 'holder');
    await answers.settle(CALL, lease, undefined, 0);
    expect(await answers.lookup(CALL, 'waiter', 'holder')).toEqual({ state: 'handed', answer: undefined });
    expect(await answers.lookup(CALL, 'other', undefined)).toMatchObject({ state: 'lease' });
  });

  it('does not release a lease that lapsed and was taken by another replica', async () => {
    const short = sharedAnswers(link, { ...OPTIONS, leaseMs: 50 });
    const lapsed = await leaseOf(short, 'slow');
    await new Promise((resolve) => setTimeout(resolve, 80));
    await leaseOf(answers, 'taker');
    await short.settle(CALL, lapsed, ANSWER, 5000);
    expect(await answers.lookup(CALL, 'third', undefined)).toMatchObject({ state: 'hit' });
    expect(await link.run('test', (client) => client.keys('unit:*:lease:*'))).toHaveLength(1);
  });

  it('renews only its own lease', async () => {
    const short = sharedAnswers(link, { ...OPTIONS, leaseMs: 300 });
    const lease = await leaseOf(short, 'mine');
    const release = short.hold(CALL, lease);
    await new Promise((resolve) => setTimeout(resolve, 600));
    release();
    expect(await short.lookup(CALL, 'other', undefined)).toEqual({ state: 'wait', holder: 'mine' });
    const notMine = short.hold(CALL, { token: 'not-mine', generation: '0' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    notMine();
    const pttl = await link.run('test', (client) => client.keys('unit:*:lease:*').then(([key]) => client.pttl(key!)));
    expect(pttl).toBeLessThanOrEqual(300 - 100);
  });

  it('serves nothing kept before the upstream refused the scope, and keeps nothing a call that began before the refusal fetched', async () => {
    await answers.settle(CALL, await leaseOf(answers, 'a'), ANSWER, 5000);
    await answers.forget(DIGEST);
    expect(await answers.lookup(CALL, 'b', undefined)).toEqual({ state: 'lease', lease: { token: 'b', generation: '1' } });
    // A call that began before the refusal ends after it: not kept, no vouch renewed.
    await answers.settle(CALL, { token: 'b', generation: '0' }, ANSWER, 5000);
    expect(await answers.lookup(CALL, 'c', undefined)).toMatchObject({ state: 'lease', lease: { generation: '1' } });
    await answers.settle(CALL, { token: 'c', generation: '1' }, ANSWER, 5000);
    expect(await answers.lookup(CALL, 'd', undefined)).toMatchObject({ state: 'hit', answer: ANSWER });
  });

  it("keeps a refusal's counter as long as answers may live where some were kept, and only past the calls in flight where none were (made-up tokens)", async () => {
    const ttlOfCounter = () => link.run('test', (client) => client.keys('unit:*:gen').then(([key]) => client.pttl(key!)));
    await answers.forget(DIGEST);
    expect(await ttlOfCounter()).toBeLessThanOrEqual(OPTIONS.refusalTtlMs);
    // The counter still turns away a call that began before the refusal.
    await answers.settle(CALL, { token: '', generation: '0' }, ANSWER, 5000);
    expect(await answers.lookup(CALL, 'a', undefined)).toMatchObject({ state: 'lease', lease: { generation: '1' } });
    await link.run('test', (client) => client.flushall());
    await answers.settle(CALL, await leaseOf(answers, 'a'), ANSWER, 5000);
    expect(await ttlOfCounter()).toBeGreaterThan(OPTIONS.generationTtlMs - 5000);
    await answers.forget(DIGEST);
    expect(await ttlOfCounter()).toBeGreaterThan(OPTIONS.generationTtlMs - 5000);
  });

  it('tells the fleet of a vouched scope refused while Redis is out of memory (the counter cannot be written)', async () => {
    const told: string[] = [];
    const other = new RedisLink({ ...link.options, logger: createLogger('silent'), metrics: createRedisMetrics(new Registry()) });
    try {
      sharedAnswers(other, OPTIONS).onForget((digest) => told.push(digest));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await answers.settle(CALL, await leaseOf(answers, 'a'), ANSWER, 5000);
      const used = await link.run('test', (client) => client.info('memory').then((text) => Number(/used_memory:(\d+)/.exec(text)![1])));
      await link.run('test', (client) => client.config('SET', 'maxmemory-policy', 'noeviction').then(() => client.config('SET', 'maxmemory', String(used))));
      try {
        await answers.forget(DIGEST);
        const end = Date.now() + 2000;
        while (told.length === 0 && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20));
        expect(told).toEqual([DIGEST]);
      } finally {
        await new Promise((resolve) => setTimeout(resolve, SUSPEND_MS + 50));
        await link.run('test', (client) => client.config('SET', 'maxmemory', '0'));
      }
    } finally {
      await other.close();
    }
  });

  it('keeps the answer of a call made past the lease (a fresh poll) under the generation it began in', async () => {
    const lease = await answers.generation(DIGEST);
    expect(lease).toEqual({ token: '', generation: '0' });
    await answers.settle(CALL, lease as Lease, ANSWER, 5000);
    expect(await answers.lookup(CALL, 'a', undefined)).toMatchObject({ state: 'hit', answer: ANSWER });
  });

  it('serves nothing to a scope no replica vouched for within CACHE_AUTH_RECHECK_MS', async () => {
    const neverVouched = sharedAnswers(link, { ...OPTIONS, recheckMs: 0 });
    await neverVouched.settle(CALL, await leaseOf(neverVouched, 'a'), ANSWER, 5000);
    expect(await neverVouched.lookup(CALL, 'b', undefined)).toMatchObject({ state: 'lease' });
  });

  it('neither keeps nor hands over values above the size bound', async () => {
    const big: UpstreamAnswer = { kind: 'ok', body: 'x'.repeat(2000), requestId: undefined, bytes: 2002 };
    await answers.settle(CALL, await leaseOf(answers, 'a'), big, 5000);
    expect(await answers.lookup(CALL, 'b', 'a')).toEqual({ state: 'handed', answer: undefined });
    const sizes = await link.run('test', async (client) => Promise.all((await client.keys('unit:*')).map((key) => client.strlen(key))));
    expect(Math.max(...(sizes as number[]))).toBeLessThan(100);
  });

  it('reads a kept value it did not write as no answer, never as a wrong one: one asker calls for the fleet', async () => {
    const lease = await leaseOf(answers, 'a');
    await answers.settle(CALL, lease, ANSWER, 5000);
    await link.run('test', async (client) => {
      const [key] = await client.keys('unit:*:answer:*');
      await client.set(key!, '0\n{"kind":"ok","body":1}', 'PX', 5000);
    });
    expect(await answers.lookup(CALL, 'b', undefined)).toEqual({ state: 'lease', lease: { token: 'b', generation: '0' } });
    expect(await answers.lookup(CALL, 'c', undefined)).toEqual({ state: 'wait', holder: 'b' });
  });

  it('answers UNAVAILABLE within its timeout while Redis hangs, then skips Redis for a while, and recovers by itself', async () => {
    const since = logs.length;
    redis.pause();
    try {
      const started = performance.now();
      expect(await answers.lookup(CALL, 'a', undefined)).toBe(UNAVAILABLE);
      expect(performance.now() - started).toBeLessThan(300);
      expect(await isUp(link)).toBe(false);
      // Suspended: not even sent.
      const skipped = performance.now();
      expect(await answers.lookup(CALL, 'a', undefined)).toBe(UNAVAILABLE);
      expect(performance.now() - skipped).toBeLessThan(20);
    } finally {
      redis.resume();
    }
    await new Promise((resolve) => setTimeout(resolve, SUSPEND_MS + 50));
    expect(await answers.lookup(CALL, 'a', undefined)).toMatchObject({ state: 'lease' });
    expect(await isUp(link)).toBe(true);
    const messages = logs.slice(since).map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages.filter((msg) => msg.startsWith('Redis unavailable'))).toHaveLength(1);
    expect(messages).toContain('Redis reachable again: sharing with other replicas resumes');
  });

  it('sends one probe when a suspension ends, not every command in flight, while Redis still hangs', async () => {
    redis.pause();
    try {
      expect(await answers.lookup(CALL, 'a', undefined)).toBe(UNAVAILABLE);
      await new Promise((resolve) => setTimeout(resolve, SUSPEND_MS + 20));
      const timed = await Promise.all(
        Array.from({ length: 5 }, async (_, i) => {
          const started = performance.now();
          expect(await answers.lookup(CALL, `t${i}`, undefined)).toBe(UNAVAILABLE);
          return performance.now() - started;
        }),
      );
      // The probe waits its timeout (100 ms); the other four are answered without waiting one (at once,
      // unless the host is loaded: the bound tells the two apart, not how fast).
      expect(timed.filter((ms) => ms >= 90)).toHaveLength(1);
      expect(timed.filter((ms) => ms < 90)).toHaveLength(4);
    } finally {
      redis.resume();
    }
    await new Promise((resolve) => setTimeout(resolve, SUSPEND_MS + 50));
    expect(await answers.lookup(CALL, 'after', undefined)).toMatchObject({ state: 'lease' });
  });
});
