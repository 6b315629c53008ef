import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { QueryRegistry } from '../../src/security/persistedQueries';
import { createLogger } from '../../src/observability/logger';
import { createRedisMetrics } from '../../src/redis/redisMetrics';
import { RedisQueryRegistry } from '../../src/redis/RedisQueryRegistry';
import { RedisLink } from '../../src/redis/RedisLink';
import { eventually } from '../support/liveClient';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redisServer';

/**
 * The APQ registry, in memory and in Redis: each caller's texts a share of its bytes, a document costing
 * its key and bookkeeping too (tiny documents from anyone are mostly that), and a replica keeping in Redis
 * no more of its writing than it holds itself.
 */

const SHARE = 64 * 1024;
const hashOf = (i: number) => String(i).padStart(64, '0');

describeWithRedis("a replica's APQ registry in Redis", () => {
  let redis: RedisServer;
  let link: RedisLink;
  let inspector: Redis;
  beforeAll(async () => {
    redis = await startRedisServer();
    link = new RedisLink({ url: redis.url, keyPrefix: 'share:', timeoutMs: 1000, maxValueBytes: 1 << 20, logger: createLogger('silent'), metrics: createRedisMetrics(new Registry()) });
    inspector = new Redis(redis.url);
    await eventually(async () => (await link.run('ping', (client) => client.ping())) === 'PONG', 'Redis up');
  });
  afterAll(async () => {
    inspector.disconnect();
    await link.close();
    await redis.kill();
  });
  beforeEach(() => inspector.flushall());

  it('holds tiny documents to their cost in keys and bookkeeping, and deletes in Redis what it pushes out', async () => {
    const registry = new QueryRegistry(SHARE, new RedisQueryRegistry(link));
    for (let i = 0; i < 1000; i += 1) registry.register(hashOf(i), `{a${i}:__typename}`, `caller ${i % 8}`);
    await eventually(async () => (await inspector.keys('share:apq:*')).length <= SHARE / 256, 'what it pushed out deleted in Redis');
    expect((await inspector.keys('share:apq:*')).length).toBeGreaterThan(SHARE / 512);
    expect(await registry.get(hashOf(999))).toBe('{a999:__typename}');
    expect(await registry.get(hashOf(0))).toBeUndefined();
  });

  it("pushes out a caller's own texts, not another's, when it registers past its share", async () => {
    const registry = new QueryRegistry(SHARE, new RedisQueryRegistry(link));
    registry.register(hashOf(0), '{ mine: __typename }', 'A');
    for (let i = 1; i < 1000; i += 1) registry.register(hashOf(i), `{a${i}:__typename}`, 'B');
    // Past a quarter of a full registry, B makes room with its own, in memory and in Redis.
    await eventually(async () => (await inspector.keys('share:apq:*')).length <= SHARE / 256, 'what B pushed out deleted in Redis');
    expect(await registry.get(hashOf(0))).toBe('{ mine: __typename }');
    expect(await inspector.exists(`share:apq:${hashOf(0)}`)).toBe(1);
  });

  it("reads another replica's text from Redis, and keeps it as the fleet's, not deleting it there when it is pushed out", async () => {
    const writer = new QueryRegistry(SHARE, new RedisQueryRegistry(link));
    writer.register(hashOf(1), '{ theirs: __typename }', 'A');
    await eventually(async () => (await inspector.exists(`share:apq:${hashOf(1)}`)) === 1, 'written in Redis');
    const reader = new QueryRegistry(SHARE, new RedisQueryRegistry(link));
    expect(await reader.get(hashOf(1))).toBe('{ theirs: __typename }');
    for (let i = 2; i < 1000; i += 1) await reader.get(hashOf(i));
    for (let i = 2; i < 1000; i += 1) reader.register(hashOf(i), `{a${i}:__typename}`, `caller ${i % 8}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await inspector.exists(`share:apq:${hashOf(1)}`)).toBe(1);
  });
});

describe('the in-process APQ registry', () => {
  it('counts the same cost, each caller a share', async () => {
    const registry = new QueryRegistry(SHARE);
    for (let i = 0; i < 1000; i += 1) registry.register(hashOf(i), `{a${i}:__typename}`, `caller ${i % 8}`);
    let kept = 0;
    for (let i = 0; i < 1000; i += 1) if ((await registry.get(hashOf(i))) !== undefined) kept += 1;
    expect(kept).toBeLessThanOrEqual(SHARE / 256);
    expect(kept).toBeGreaterThan(SHARE / 512);
  });
});
