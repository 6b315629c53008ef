import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { Registry } from 'prom-client';
import type { GatewayConfig } from '../config/loadConfig';
import type { Logger } from '../observability/logger';
import { ttlRange } from '../cache/freshness';
import type { SharedUpstreamState } from '../upstream/CseHttpClient';
import { cacheTtlsOf } from '../upstream/createCseHttpClient';
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
  if (config.redisUrl === undefined) return undefined;
  const metrics = createRedisMetrics(registry);
  const link = new RedisLink({ url: config.redisUrl, cluster: config.redisCluster, tlsCa: config.redisTlsCa, timeoutMs: config.redisTimeoutMs, logger, metrics });
  const keys = redisKeys(config.redisKeyPrefix);
  const cipher = valueCipherOf(config.redisEncryptionKeys);
  // How many keys, never which: the keys themselves are not logged.
  if (config.redisEncryptionKeys !== undefined) {
    logger.info({ keys: config.redisEncryptionKeys.count }, 'values written to Redis are encrypted (AES-256-GCM, REDIS_ENCRYPTION_KEY)');
  }
  const pollers = new FleetPollers(link, keys, {
    pollMs: config.subscriptionPollMs,
    timeoutMs: config.redisTimeoutMs,
    maxValueBytes: config.redisMaxValueBytes,
    cipher,
    metrics,
  });
  return {
    link,
    upstream: {
      answers: new SharedAnswers(link, keys, {
        recheckMs: config.cacheAuthRecheckMs,
        maxValueBytes: config.redisMaxValueBytes,
        // A generation must outlive every answer stored under the one before it (see SharedAnswers).
        generationTtlMs: ttlRange(cacheTtlsOf(config)).max + config.cacheAuthRecheckMs + 60_000,
        leaseMs: config.redisLeaseMs,
        cipher,
      }),
    },
    persistedQueries: new RedisKeyValueCache(link, keys, config.redisMaxValueBytes, cipher),
    pollers,
    close: () => {
      pollers.close();
      return link.close();
    },
  };
}
