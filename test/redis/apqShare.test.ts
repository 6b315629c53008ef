import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { persistedQueriesOption } from '../../src/security/persistedQueries';
import { createLogger } from '../../src/observability/logger';
import { createRedisMetrics } from '../../src/redis/redisMetrics';
import { RedisKeyValueCache } from '../../src/redis/RedisKeyValueCache';
import { RedisLink } from '../../src/redis/RedisLink';
import { eventually } from '../support/liveClient';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redisServer';

/**
 * A replica's APQ share of Redis counts what a document costs there, not only its text: its key and
 * Redis's bookkeeping. Tiny documents from anyone are mostly that.
 */

const SHARE = 64 * 1024;

describeWithRedis("a replica's APQ share of Redis", () => {
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

  it('holds tiny documents to their cost in keys and bookkeeping, in Redis and in memory', async () => {
    const local = new InMemoryLRUCache<string>({ maxSize: SHARE, sizeCalculation: (value: string, key: string) => value.length + key.length + 256 } as never);
    const apq = new RedisKeyValueCache(link, local, SHARE);
    for (let i = 0; i < 1000; i += 1) await apq.set(`apq:${String(i).padStart(64, '0')}`, `{a${i}:__typename}`);
    await eventually(async () => (await inspector.keys('share:apq:*')).length <= SHARE / 256, 'the share evicted in Redis');
    expect((await inspector.keys('share:apq:*')).length).toBeGreaterThan(SHARE / 512);
  });

  it('makes the in-process registry count the same cost', async () => {
    const option = persistedQueriesOption({ persistedQueries: 'apq', apqCacheMaxBytes: SHARE }, undefined);
    const cache = (option as { cache: InMemoryLRUCache<string> }).cache;
    for (let i = 0; i < 1000; i += 1) await cache.set(`apq:${String(i).padStart(64, '0')}`, `{a${i}:__typename}`);
    expect(cache.keys().length).toBeLessThanOrEqual(SHARE / 256);
  });
});
