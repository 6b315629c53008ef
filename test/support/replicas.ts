import type { Simulator } from '../../src/simulator';
import { startGatewayOn, type GatewayHarness } from './harness';
import type { RedisServer } from './redisServer';

/** The key prefix the Redis suites write under. */
export const PREFIX = 'test-gw:';

/** Three gateways on one Redis (REDIS_CLUSTER=true when it runs as a cluster) and one simulator (the upstream). */
export async function replicas(simulator: Simulator, redis: RedisServer, env: Record<string, string> = {}): Promise<GatewayHarness[]> {
  const shared = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: PREFIX, LOG_LEVEL: 'info', ...(redis.cluster ? { REDIS_CLUSTER: 'true' } : {}), ...env };
  return Promise.all([startGatewayOn(simulator, shared), startGatewayOn(simulator, shared), startGatewayOn(simulator, shared)]);
}

async function redisUp(gateway: GatewayHarness): Promise<number> {
  const metric = await gateway.gateway.metrics.registry.getSingleMetric('gateway_redis_up')?.get();
  return metric?.values[0]?.value ?? -1;
}

/** Resolves once every gateway reports Redis as `up` (1) or down (0); fails past 10 s. */
export async function untilRedis(gateways: GatewayHarness[], up: 0 | 1): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    const states = await Promise.all(gateways.map(redisUp));
    if (states.every((state) => state === up)) return;
    if (Date.now() > end) throw new Error(`gateway_redis_up is ${states.join(', ')}, expected ${up} on every replica`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
