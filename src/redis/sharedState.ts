import type { Registry } from 'prom-client';
import { ttlRange } from '../cache/freshness';
import type { GatewayConfig } from '../config/loadConfig';
import type { Logger } from '../observability/logger';
import { FleetPollers } from './FleetPollers';
import { RedisQueryRegistry } from './RedisQueryRegistry';
import { RedisLink } from './RedisLink';
import { createRedisMetrics } from './redisMetrics';
import { sharedAnswers } from './SharedAnswers';

/** What the replicas share through Redis, on one connection; a replica serves without it. */
export function createSharedState(config: GatewayConfig, logger: Logger, registry: Registry) {
  const { url, ...redis } = config.redis;
  if (url === undefined) return undefined;
  const link = new RedisLink({ ...redis, url, logger, metrics: createRedisMetrics(registry) });
  const { recheckMs } = config.upstream.credentials;
  const pollers = new FleetPollers(link, config.subscriptions.pollMs);
  // A generation must outlive every answer stored under the one before it.
  const generationTtlMs = ttlRange(config.cache.ttls).max + recheckMs + 60_000;
  // Every upstream call ends by its operation's deadline.
  const refusalTtlMs = config.limits.operationTimeoutMs + redis.leaseMs + 60_000;
  return {
    upstream: { answers: sharedAnswers(link, { recheckMs, generationTtlMs, refusalTtlMs, leaseMs: redis.leaseMs }) },
    persistedQueries: new RedisQueryRegistry(link),
    pollers,
    close: () => {
      pollers.close();
      return link.close();
    },
  };
}
