import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { DEMO_PROJECT_ID, DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { credentialDigest } from '../../src/cache/scopeKey';
import { createLogger } from '../../src/observability/logger';
import { FleetPollers } from '../../src/redis/FleetPollers';
import { createRedisMetrics } from '../../src/redis/redisMetrics';
import { RedisLink } from '../../src/redis/RedisLink';
import type { PollResult, WatchCoordinator } from '../../src/subscriptions/EngineWatch';
import type { CseJob } from '../../src/upstream/types';
import { startGatewayOn, type GatewayHarness } from '../support/harness';
import { collect, eventually } from '../support/liveClient';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redisServer';
import { fleetClients, fleetPolls, PREFIX, replicaEnv, untilRedis } from '../support/replicas';
import { startFakeUpstream, type FakeAnswer, type FakeReply, type FakeUpstream } from '../support/upstream';

/**
 * A subscriber never sees a job's state go backwards when a replica's own read answers after a
 * newer state came from the fleet's poller: every state carries when its upstream read began
 * (Date.now(), published with the poller's results), and a watch drops a state read before the
 * one it holds. Here the gateway listens to a poller made of FleetPollers alone on a real
 * redis-server; its own read is held at a fake upstream while the poller publishes a newer state,
 * then answers with the older one.
 */

const ENGINE = 'a0000000-0000-4000-8000-000000000002';
const JOB_ID = 7;
const JOBS_PATH = `/v2/${DEMO_PROJECT_ID}/enginemgr/engines/${ENGINE}/jobs`;
const JOB_PATH = `${JOBS_PATH}/${JOB_ID}`;
const credentials = { token: DEMO_TOKEN, projectId: DEMO_PROJECT_ID, enterpriseProjectId: undefined };
/** The poller's interval: its lease (three of them) outlives each test. */
const LEASE_POLL_MS = 10_000;
const JOB = 'subscription ($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id status } }';
const EVENTS = 'subscription ($engineId: ID!) { engineJobEvents(engineId: $engineId) { kind job { id status } } }';

const job = (status: string) => ({ id: JOB_ID, engineId: ENGINE, type: 'UpgradeEngine', status, startTime: 1700000000000, tasks: [] });
const page = (status: string) => JSON.stringify({ total: 1, data: [job(status)] });
/** A result as the poller publishes it; `startedAt` undefined as a replica of an older version sends it. */
const result = (status: string, startedAt: number | undefined, newest?: string[]): PollResult => ({
  jobs: [job(status) as unknown as CseJob],
  newest,
  missing: [],
  engineMissing: false,
  failed: false,
  startedAt,
});

describeWithRedis('a replica’s late read and the fleet’s newer state', () => {
  let redis: RedisServer;
  let upstream: FakeUpstream;
  let gateway: GatewayHarness;
  let link: RedisLink;
  let pollers: FleetPollers;
  let fleet: WatchCoordinator;
  /** What the upstream answers a path (without its query). */
  let answers: Record<string, FakeAnswer> = {};
  /** Answers the read the upstream holds, with the state read then. */
  let release: (() => void) | undefined;
  const { client, disposeAll } = fleetClients();

  /** An answer held until `release`. */
  const held = (reply: FakeReply) => () => new Promise<FakeReply>((resolve) => (release = () => resolve(reply)));

  beforeAll(async () => {
    redis = await startRedisServer();
    upstream = await startFakeUpstream((path) => answers[path.split('?')[0]!]?.(path));
    const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
    const metrics = createRedisMetrics(new Registry());
    link = new RedisLink({ url: redis.url, keyPrefix: PREFIX, timeoutMs: 1000, maxValueBytes: 1 << 20, logger: createLogger('error', quiet), metrics });
    pollers = new FleetPollers(link, LEASE_POLL_MS);
    fleet = pollers.join(credentials, ENGINE, () => {});
  });
  beforeEach(async () => {
    answers = {};
    release = undefined;
    upstream.calls.length = 0;
    // The fleet's poller holds the lease of the gateway's scope and engine (a link still connecting plans `local`).
    await eventually(async () => {
      const plan = await fleet.plan({ jobIds: [String(JOB_ID)], events: true });
      return plan.role === 'poll' && plan.publish;
    }, 'the poller’s lease');
  });
  afterEach(async () => {
    release?.();
    await disposeAll();
    await gateway?.close();
  });
  afterAll(async () => {
    pollers.close();
    await link.close();
    await upstream.close();
    await redis.kill();
  });

  async function listening(pollMs: number): Promise<void> {
    gateway = await startGatewayOn(upstream, replicaEnv(redis, { SUBSCRIPTION_POLL_MS: String(pollMs) }));
    await untilRedis([gateway], 1);
  }

  async function okPolls(): Promise<number> {
    const metric = await gateway.gateway.metrics.registry.getSingleMetric('gateway_subscription_polls_total')?.get();
    return metric?.values.find((value) => value.labels.outcome === 'ok')?.value ?? 0;
  }

  it.each([
    ['an older state', JSON.stringify(job('Init'))],
    ['the job not found (not there yet)', { status: 400, text: '{"error_code":"SVCSTG.00501153","error_msg":"Job not found"}' }],
  ])('jobUpdated: what the listener read, answered after a newer state, is not sent: %s', async (_what, answer) => {
    answers[JOB_PATH] = held(answer);
    await listening(LEASE_POLL_MS);
    const updates = collect(client(gateway), JOB, { engineId: ENGINE, id: String(JOB_ID) });
    // The listener reads its new subscriber's job itself; the upstream holds that read.
    await eventually(() => release !== undefined, 'the gateway’s read of the job');
    fleet.publish(result('Executing', Date.now()));
    await updates.next(1);

    release!();
    await eventually(async () => (await okPolls()) === 1, 'the held read answered and handled');
    fleet.publish(result('Finished', Date.now()));
    await updates.done;
    expect(updates.results.map((each) => each.data?.jobUpdated.status)).toEqual(['EXECUTING', 'FINISHED']);
    expect(upstream.calls.filter((path) => path.startsWith(JOB_PATH))).toHaveLength(1);
  }, 20_000);

  /**
   * engineJobEvents while the listener's own read of the newest page is held at the upstream, the
   * poller publishes a newer page, then the held read answers `answer`: the statuses (or errors) sent.
   */
  async function eventsAroundAHeldRead(answer: FakeReply): Promise<unknown[]> {
    await listening(300);
    const events = collect(client(gateway), EVENTS, { engineId: ENGINE });
    await eventually(async () => (await fleetPolls(gateway, 'listener')) > 0, 'the gateway listening');
    // The first page sets what the next ones are compared with: no event.
    fleet.publish(result('PreInit', Date.now(), [String(JOB_ID)]));
    // Then a message the gateway cannot read (Redis keeps their order): it polls the newest page
    // itself at its next tick, and the upstream holds that read.
    answers[JOBS_PATH] = held(answer);
    const channel = link.keys.polls(credentialDigest(credentials), ENGINE);
    await link.run('poller', (redisClient) => redisClient.publish(channel, 'unreadable'));
    await eventually(() => release !== undefined, 'the gateway’s read of the newest page');
    fleet.publish(result('Executing', Date.now(), [String(JOB_ID)]));
    await events.next(1);

    release!();
    await eventually(async () => (await okPolls()) === 1, 'the held read answered and handled');
    fleet.publish(result('Finished', Date.now(), [String(JOB_ID)]));
    await events.next(2);
    return events.results.map((each) => each.errors ?? each.data?.engineJobEvents.job.status);
  }

  it('engineJobEvents: the page this replica read, answered after a newer one, makes no event', async () => {
    expect(await eventsAroundAHeldRead(page('Init'))).toEqual(['EXECUTING', 'FINISHED']);
  }, 20_000);

  it('engineJobEvents: an engine not found by a read begun before the newest page compared ends no subscription', async () => {
    const engineGone = { status: 404, text: '{"error_code":"SVCSTG.00501125","error_msg":"Engine not found"}' };
    expect(await eventsAroundAHeldRead(engineGone)).toEqual(['EXECUTING', 'FINISHED']);
  }, 20_000);

  it('a read begun after a state came from a poller whose clock is ahead is not older than that state', async () => {
    answers[JOB_PATH] = () => JSON.stringify(job('PreInit'));
    await listening(300);
    const updates = collect(client(gateway), JOB, { engineId: ENGINE, id: String(JOB_ID) });
    await updates.next(1);
    fleet.publish(result('Init', Date.now() + 60_000));
    await updates.next(2);

    // A message the gateway cannot read: it polls for itself at its next tick.
    answers[JOB_PATH] = () => JSON.stringify(job('Finished'));
    const channel = link.keys.polls(credentialDigest(credentials), ENGINE);
    await link.run('poller', (redisClient) => redisClient.publish(channel, 'unreadable'));
    await eventually(() => updates.results.length === 3, 'the state the gateway read itself');
    expect(updates.results.map((each) => each.data?.jobUpdated.status)).toEqual(['PRE_INIT', 'INIT', 'FINISHED']);
  }, 20_000);

  it('the poller publishes when its reads began', async () => {
    const engine = 'a0000000-0000-4000-8000-000000000003';
    answers[`/v2/${DEMO_PROJECT_ID}/enginemgr/engines/${engine}/jobs/${JOB_ID}`] = () => JSON.stringify({ ...job('Executing'), engineId: engine });
    const inspector = new Redis(redis.url);
    const published: string[] = [];
    try {
      inspector.on('message', (_channel: string, text: string) => published.push(text));
      await inspector.subscribe(link.keys.polls(credentialDigest(credentials), engine));
      // No other replica holds this engine's lease: the gateway polls for the fleet.
      await listening(LEASE_POLL_MS);
      const before = Date.now();
      const updates = collect(client(gateway), JOB, { engineId: engine, id: String(JOB_ID) });
      await updates.next(1);
      await eventually(() => published.length > 0, 'the poller’s result');
      const { from, result: sent } = JSON.parse(published[0]!) as { from: string; result: PollResult };
      expect(from).toEqual(expect.any(String));
      expect(sent.startedAt).toBeGreaterThanOrEqual(before);
      expect(sent.startedAt).toBeLessThanOrEqual(Date.now());
    } finally {
      inspector.disconnect();
    }
  }, 20_000);

  it('a result without a start (a replica of an older version) is taken as before', async () => {
    answers[JOB_PATH] = () => JSON.stringify(job('Init'));
    await listening(LEASE_POLL_MS);
    const updates = collect(client(gateway), JOB, { engineId: ENGINE, id: String(JOB_ID) });
    await updates.next(1);
    fleet.publish(result('Executing', undefined));
    await updates.next(2);
    fleet.publish(result('Finished', undefined));
    await updates.done;
    expect(updates.results.map((each) => each.data?.jobUpdated.status)).toEqual(['INIT', 'EXECUTING', 'FINISHED']);
  }, 20_000);
});
