import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
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
 * FleetPollers tells a listener's watch when a result follows a gap — messages may have been lost
 * before it: the first result, one from another poller than the last, the first since the
 * subscriber connection came back. The watch then hands each job's state on even if it looks
 * unchanged (see EngineWatch). Replicas made of FleetPollers alone, on a real redis-server.
 */

const POLL_MS = 200;
const credentials: Credentials = { token: 'gap-token', projectId: 'p', enterpriseProjectId: undefined };
const result: PollResult = { jobs: [{ id: 7, status: 'Executing' } as unknown as CseJob], newest: undefined, missing: [], engineMissing: false, failed: false };

describeWithRedis('FleetPollers: a result after a gap says so', () => {
  let redis: RedisServer;
  const made: Array<{ link: RedisLink; pollers: FleetPollers }> = [];

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    for (const { link, pollers } of made) {
      pollers.close();
      await link.close();
    }
    await redis.kill();
  });

  /** One replica's FleetPollers, joined to the scope and engine; `gaps` records each result's flag. */
  function replica(engineId = 'engine'): { coordinator: WatchCoordinator; gaps: boolean[] } {
    const registry = new Registry();
    const metrics = createRedisMetrics(registry);
    const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
    const link = new RedisLink({ url: redis.url, keyPrefix: PREFIX, timeoutMs: 1000, maxValueBytes: 1 << 20, logger: createLogger('error', quiet), metrics });
    const pollers = new FleetPollers(link, POLL_MS);
    made.push({ link, pollers });
    const gaps: boolean[] = [];
    const coordinator = pollers.join(credentials, engineId, (_result, gap) => gaps.push(gap));
    return { coordinator, gaps };
  }

  const mine = { jobIds: ['7'], events: false };

  /** Ticks `coordinator` (and `others` before it) until its plan is `role`: a link still connecting plans `local`. */
  async function tickUntil(role: 'poller' | 'listen', coordinator: WatchCoordinator, others: WatchCoordinator[] = []): Promise<void> {
    const until = Date.now() + 10_000;
    for (;;) {
      for (const other of others) await other.plan(mine);
      const plan = await coordinator.plan(mine);
      if (role === 'listen' ? plan.role === 'listen' : plan.role === 'poll' && plan.publish) return;
      if (Date.now() > until) throw new Error(`no ${role} plan: ${JSON.stringify(plan)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('the first result, the same poller again, another poller, and the first after Redis came back', async () => {
    const first = replica();
    const listener = replica();
    await tickUntil('poller', first.coordinator);
    await tickUntil('listen', listener.coordinator);

    first.coordinator.publish(result);
    await eventually(() => listener.gaps.length === 1, 'the first result');
    first.coordinator.publish(result);
    await eventually(() => listener.gaps.length === 2, 'the second result');
    expect(listener.gaps).toEqual([true, false]);

    // The poller leaves; another replica takes the lease and publishes.
    first.coordinator.leave();
    const second = replica();
    await tickUntil('poller', second.coordinator);
    second.coordinator.publish(result);
    await eventually(() => listener.gaps.length === 3, 'the new poller’s result');
    second.coordinator.publish(result);
    await eventually(() => listener.gaps.length === 4, 'its second result');
    expect(listener.gaps.slice(2)).toEqual([true, false]);

    // Redis goes and comes back (empty): whatever was published meanwhile, the listener may have lost.
    await redis.kill();
    await redis.start();
    await tickUntil('poller', second.coordinator);
    await tickUntil('listen', listener.coordinator, [second.coordinator]);
    second.coordinator.publish(result);
    await eventually(() => listener.gaps.length === 5, 'the first result since Redis came back');
    expect(listener.gaps[4]).toBe(true);
  }, 30_000);

  it('listens no more on the channel of a watch that left while its plan waited for Redis', async () => {
    const inspector = new Redis(redis.url);
    try {
      // On a loaded host the poller's lease may lapse and `late` poll instead: then again, anew.
      for (let attempt = 0; ; attempt += 1) {
        const engineId = `engine-left-${attempt}`;
        const poller = replica(engineId);
        const late = replica(engineId);
        await tickUntil('poller', poller.coordinator);
        const planned = late.coordinator.plan(mine);
        late.coordinator.leave();
        const plan = await planned;
        if (plan.role === 'poll' && plan.publish && attempt < 5) continue;
        // A subscription made after the leave would stay for good: nobody would unlisten it.
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(await inspector.pubsub('CHANNELS', `${PREFIX}*${engineId}`)).toEqual([]);
        return;
      }
    } finally {
      inspector.disconnect();
    }
  });
});
