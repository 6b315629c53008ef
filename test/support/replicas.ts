import { Redis, type RedisOptions } from 'ioredis';
import { request } from 'undici';
import { DEMO_PROJECT_ID, DEMO_TOKEN, startSimulator, type Simulator } from '@cse-jobs-gateway/simulator';
import type { Client } from 'graphql-ws';
import { startGatewayOn, type GatewayHarness, type GqlResponse } from './harness';
import { eventually, liveClient } from './liveClient';
import { startRedisServer, type RedisCluster, type RedisServer } from './redisServer';

/** The key prefix the Redis suites write under. */
export const PREFIX = 'test-gw:';

/** What a Redis suite shares: one redis-server, a client that looks into it, one simulator. */
export interface RedisSuite {
  readonly redis: RedisServer;
  readonly inspector: Redis;
  readonly simulator: Simulator;
}

/**
 * Registers a Redis suite's hooks (inside describeWithRedis, before its own): one redis-server,
 * an inspecting client and one simulator for the suite, handed to `take` once started; every test
 * starts with the simulator reset and Redis empty (where a test left it running).
 */
export function useRedisSuite(take: (suite: RedisSuite) => void, inspectorOptions: RedisOptions = {}): void {
  let suite: RedisSuite | undefined;
  beforeAll(async () => {
    const redis = await startRedisServer();
    const inspector = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, ...inspectorOptions });
    await inspector.connect();
    suite = { redis, inspector, simulator: await startSimulator() };
    take(suite);
  });
  afterAll(async () => {
    suite?.inspector.disconnect();
    await suite?.simulator.close();
    await suite?.redis.kill();
  });
  beforeEach(async () => {
    suite!.simulator.reset();
    if (suite!.inspector.status === 'ready') await suite!.inspector.flushall();
  });
}

/**
 * A replica's settings on `redis` (REDIS_CLUSTER=true when it runs as one), `env` last. REDIS_TIMEOUT_MS
 * is 1000: the test process runs several gateways on a loaded host, where a command late past the
 * default would make a replica work alone for a second and the counts under test a replica's.
 */
export function replicaEnv(redis: RedisServer | RedisCluster, env: Record<string, string> = {}): Record<string, string> {
  const cluster: Record<string, string> = redis.cluster ? { REDIS_CLUSTER: 'true' } : {};
  return { REDIS_URL: redis.url, REDIS_KEY_PREFIX: PREFIX, REDIS_TIMEOUT_MS: '1000', LOG_LEVEL: 'info', ...cluster, ...env };
}

/** Three gateways on one Redis or Redis Cluster and one simulator (the upstream). */
export async function replicas(simulator: Simulator, redis: RedisServer | RedisCluster, env: Record<string, string> = {}): Promise<GatewayHarness[]> {
  return Promise.all([0, 1, 2].map(() => startGatewayOn(simulator, replicaEnv(redis, env))));
}

async function redisUp(gateway: GatewayHarness): Promise<number> {
  const metric = await gateway.gateway.metrics.registry.getSingleMetric('gateway_redis_up')?.get();
  return metric?.values[0]?.value ?? -1;
}

/** Resolves once every gateway reports Redis as `up` (1) or down (0); fails past 10 s. */
export async function untilRedis(gateways: GatewayHarness[], up: 0 | 1): Promise<void> {
  let states: number[] = [];
  const check = async () => (states = await Promise.all(gateways.map(redisUp))).every((state) => state === up);
  await eventually(check, `gateway_redis_up ${up} on every replica`, 10_000).catch((error: Error) => {
    throw new Error(`${error.message}; it is ${states.join(', ')}`);
  });
}

/** What `gateway_subscription_fleet_polls_total{role}` counts: a replica's ticks by role. */
export type FleetRole = 'poller' | 'listener' | 'local';

/** A replica's fleet poll ticks of one role so far. */
export async function fleetPolls(gateway: GatewayHarness, role: FleetRole): Promise<number> {
  const metric = await gateway.gateway.metrics.registry.getSingleMetric('gateway_subscription_fleet_polls_total')?.get();
  return metric?.values.find((value) => value.labels.role === role)?.value ?? 0;
}

/** The responses that failed (not a 200, or any error), by their text: `[]` when none did. */
export function failures(responses: Array<GqlResponse<unknown>>): unknown[] {
  return responses.filter((response) => response.status !== 200 || response.body.errors !== undefined).map((response) => response.text);
}

/** A GraphQL response body as the APQ tests read it. */
export interface Posted {
  data?: unknown;
  errors?: Array<{ message: string; extensions: { code: string } }>;
}

/** POSTs `body` as it is (an APQ request may have no query) with the demo token, and reads the answer. */
export async function postAs(gateway: GatewayHarness, body: Record<string, unknown>): Promise<Posted> {
  const response = await request(gateway.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_TOKEN },
    body: JSON.stringify(body),
  });
  return (await response.body.json()) as Posted;
}

/** One operation that reaches the upstream: the demo token is then a caller `gateway` knows, whose APQ texts it
 * registers (a stranger's run unregistered). */
export async function knownTo(gateway: GatewayHarness): Promise<void> {
  const known = await postAs(gateway, { query: '{ engines(first: 1) { totalCount } }' });
  if (known.errors !== undefined) throw new Error(`the demo token was not accepted: ${JSON.stringify(known.errors)}`);
}

/** The demo caller's live clients of replicas (another token per client where given), all disposed by `disposeAll`. */
export function fleetClients(): { client(gateway: GatewayHarness, token?: string): Client; disposeAll(): Promise<void> } {
  const made: Client[] = [];
  return {
    client(gateway, token = DEMO_TOKEN) {
      const live = liveClient(gateway.gateway.url, { connectionParams: { 'X-Auth-Token': token, 'X-Project-Id': DEMO_PROJECT_ID } });
      made.push(live);
      return live;
    },
    async disposeAll() {
      await Promise.all(made.splice(0).map((live) => live.dispose()));
    },
  };
}

