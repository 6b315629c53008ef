import { Counter, Gauge, type Registry } from 'prom-client';

export type RedisMetrics = ReturnType<typeof createRedisMetrics>;

export function createRedisMetrics(registry: Registry) {
  const registers = [registry];
  return {
    up: new Gauge({ name: 'gateway_redis_up', help: 'Whether Redis (shared state of the replicas) answers: 1 yes, 0 no', registers }),
    errors: new Counter({
      name: 'gateway_redis_errors_total',
      help: 'Redis commands that failed or timed out; the replica went on with local state',
      labelNames: ['op'] as const,
      registers,
    }),
    fleetPolls: new Counter({
      name: 'gateway_subscription_fleet_polls_total',
      help: 'Subscription poll ticks of a scope and engine: poller (polled for the fleet), listener (another replica polled), local (polled for its own subscribers: Redis unavailable, or the results of the poller do not reach it)',
      labelNames: ['role'] as const,
      registers,
    }),
  };
}
