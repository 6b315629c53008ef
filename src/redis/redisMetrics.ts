import { Counter, Gauge, type Registry } from 'prom-client';

export interface RedisMetrics {
  /** 1 while Redis answers, 0 while the replica runs on local state alone. */
  readonly up: Gauge;
  /** Failed or timed-out commands, by command family (`op`, a closed set). */
  readonly errors: Counter<'op'>;
  /**
   * Subscription poll ticks by what this replica did: polled for the fleet, listened to it, or
   * polled for its own subscribers (Redis unavailable, or the poller's results do not reach it).
   */
  readonly fleetPolls: Counter<'role'>;
}

/** The Redis metrics, on the gateway's registry (only registered when REDIS_URL is set). */
export function createRedisMetrics(registry: Registry): RedisMetrics {
  return {
    up: new Gauge({ name: 'gateway_redis_up', help: 'Whether Redis (shared state of the replicas) answers: 1 yes, 0 no', registers: [registry] }),
    errors: new Counter({
      name: 'gateway_redis_errors_total',
      help: 'Redis commands that failed or timed out; the replica went on with local state',
      labelNames: ['op'],
      registers: [registry],
    }),
    fleetPolls: new Counter({
      name: 'gateway_subscription_fleet_polls_total',
      help: 'Subscription poll ticks of a scope and engine: poller (polled for the fleet), listener (another replica polled), local (polled for its own subscribers: Redis unavailable, or the results of the poller do not reach it)',
      labelNames: ['role'],
      registers: [registry],
    }),
  };
}
