import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { Registry } from 'prom-client';
import type { GatewayConfig } from '../config/loadConfig';
import type { Logger } from '../observability/logger';
import { ttlRange } from '../cache/freshness';
import type { SharedUpstreamState } from '../upstream/CseHttpClient';
import { FleetPollers } from './FleetPollers';
import { RedisKeyValueCache } from './RedisKeyValueCache';
import { redisKeys } from './redisKeys';
import { RedisLink } from './RedisLink';
import { createRedisMetrics } from './redisMetrics';
import { SharedAnswers } from './SharedAnswers';
import { valueCipherOf } from './valueCipher';

/** What the replicas share through Redis (REDIS_URL), on one connection. */
export interface SharedState {
  readonly link: RedisLink;
  readonly upstream: SharedUpstreamState;
  /** The fleet's APQ registry (behind each replica's own LRU). */
  readonly persistedQueries: KeyValueCache<string>;
  /** One subscription poller per scope and engine in the fleet. */
  readonly pollers: FleetPollers;
  close(): Promise<void>;
}

/** The shared state, or `undefined` without REDIS_URL. Nothing waits for Redis: a replica serves without it. */
export function createSharedState(config: GatewayConfig, logger: Logger, registry: Registry): SharedState | undefined {
  if (config.redis.url === undefined) return undefined;
  const metrics = createRedisMetrics(registry);
  const link = new RedisLink({ url: config.redis.url, cluster: config.redis.cluster, tlsCa: config.redis.tlsCa, timeoutMs: config.redis.timeoutMs, logger, metrics });
  const keys = redisKeys(config.redis.keyPrefix);
  const cipher = valueCipherOf(config.redis.encryptionKeys);
  // How many keys, never which: the keys themselves are not logged.
  if (config.redis.encryptionKeys !== undefined) {
    logger.info({ keys: config.redis.encryptionKeys.count }, 'values written to Redis are encrypted (AES-256-GCM, REDIS_ENCRYPTION_KEY)');
  }
  const pollers = new FleetPollers(link, keys, {
    pollMs: config.subscriptions.pollMs,
    timeoutMs: config.redis.timeoutMs,
    maxValueBytes: config.redis.maxValueBytes,
    cipher,
    metrics,
  });
  return {
    link,
    upstream: {
      answers: new SharedAnswers(link, keys, {
        recheckMs: config.upstream.credentials.recheckMs,
        maxValueBytes: config.redis.maxValueBytes,
        // A generation must outlive every answer stored under the one before it (see SharedAnswers).
        generationTtlMs: ttlRange(config.cache.ttls).max + config.upstream.credentials.recheckMs + 60_000,
        leaseMs: config.redis.leaseMs,
        cipher,
      }),
    },
    persistedQueries: new RedisKeyValueCache(link, keys, config.redis.maxValueBytes, cipher),
    pollers,
    close: () => {
      pollers.close();
      return link.close();
    },
  };
}
