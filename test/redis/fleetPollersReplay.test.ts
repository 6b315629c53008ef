import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { credentialDigest } from '../../src/cache/scopeKey';
import { EncryptionKeys } from '../../src/config/encryptionKeys';
import { createLogger } from '../../src/observability/logger';
import { FleetPollers } from '../../src/redis/FleetPollers';
import { createRedisMetrics } from '../../src/redis/redisMetrics';
import { RedisLink } from '../../src/redis/RedisLink';
import type { PollResult, WatchCoordinator } from '../../src/subscriptions/EngineWatch';
import type { Credentials } from '../../src/upstream/credentials';
import type { CseJob } from '../../src/upstream/types';
import { eventually } from '../support/liveClient';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redisServer';
import { PREFIX } from '../support/replicas';

/**
 * With REDIS_ENCRYPTION_KEY, a poll result is sealed with its expiry (the lease's three intervals):
 * a Redis writer without the key who PUBLISHes an old message again is not heard as news; the
 * listener takes it for an unreadable one. Replicas made of FleetPollers alone, on a real redis-server.
 */

const POLL_MS = 100;
const KEY = randomBytes(32);
const ENGINE = 'engine';
const credentials: Credentials = { token: 'replay-token', projectId: 'p', enterpriseProjectId: undefined };
const result = (status: string): PollResult => ({
  jobs: [{ id: 7, status } as unknown as CseJob],
  newest: undefined,
  missing: [],
  engineMissing: false,
  failed: false,
});

describeWithRedis('FleetPollers with REDIS_ENCRYPTION_KEY: an old poll result published again', () => {
  let redis: RedisServer;
  const made: Array<{ link: RedisLink; pollers: FleetPollers }> = [];
  let tap: Redis;

  beforeAll(async () => {
    redis = await startRedisServer();
    tap = new Redis(redis.url, { lazyConnect: true });
    await tap.connect();
  });
  afterAll(async () => {
    for (const { link, pollers } of made) {
      pollers.close();
      await link.close();
    }
    tap.disconnect();
    await redis.kill();
  });

  /** One replica's FleetPollers with the key, joined to the scope and engine; `heard` what it receives. */
  function replica(): { link: RedisLink; coordinator: WatchCoordinator; heard: string[] } {
    const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
    const link = new RedisLink({
      url: redis.url,
      keyPrefix: PREFIX,
      timeoutMs: 1000,
      maxValueBytes: 1 << 20,
      logger: createLogger('error', quiet),
      metrics: createRedisMetrics(new Registry()),
      encryptionKeys: new EncryptionKeys([KEY]),
    });
    const pollers = new FleetPollers(link, POLL_MS);
    made.push({ link, pollers });
    const heard: string[] = [];
    const coordinator = pollers.join(credentials, ENGINE, (heardResult) => heard.push(String(heardResult.jobs[0]?.status)));
    return { link, coordinator, heard };
  }

  const mine = { jobIds: ['7'], events: false };

  /** Ticks until `coordinator`'s plan is `role` (a link still connecting plans `local`). */
  async function tickUntil(role: 'poller' | 'listen', coordinator: WatchCoordinator, others: WatchCoordinator[] = []): Promise<void> {
    await eventually(async () => {
      for (const other of others) await other.plan(mine);
      const plan = await coordinator.plan(mine);
      return role === 'listen' ? plan.role === 'listen' : plan.role === 'poll' && plan.publish;
    }, `a ${role} plan`, 10_000);
  }

  it('is not taken as news once its sealed expiry has passed', async () => {
    const poller = replica();
    const listener = replica();
    await tickUntil('poller', poller.coordinator);
    await tickUntil('listen', listener.coordinator, [poller.coordinator]);
    const channel = poller.link.keys.polls(credentialDigest(credentials), ENGINE);
    // The writer keeps a copy of what the poller publishes.
    const copies: string[] = [];
    await tap.subscribe(channel);
    tap.on('message', (_channel: string, text: string) => copies.push(text));

    poller.coordinator.publish(result('Executing'));
    await eventually(() => listener.heard.length === 1 && copies.length === 1, 'the first result');
    // Past the lease's three intervals, the writer sends the old message again, then the poller a new one.
    await new Promise((resolve) => setTimeout(resolve, 4 * POLL_MS));
    const writer = new Redis(redis.url);
    await writer.publish(channel, copies[0]!);
    writer.disconnect();
    poller.coordinator.publish(result('Finished'));
    await eventually(() => listener.heard.includes('Finished'), 'the new result');
    expect(listener.heard).toEqual(['Executing', 'Finished']);
  }, 20_000);
});
