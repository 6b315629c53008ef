import { DEMO_TOKEN, SECOND_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { collect, eventually, liveClient, sleep } from '../support/liveClient';

/**
 * The heart of subscriptions: whatever the number of watchers, one scope and one engine cost the
 * upstream one poll per interval. Real WebSockets (graphql-ws's client) against the gateway and the
 * simulator; the simulator counts the calls.
 */

const POLL_MS = 100;
/** Ten intervals: long enough to count polls, the bounds' edges one interval each. */
const WINDOW_MS = 10 * POLL_MS;
const FAILING_WINDOW_MS = 15 * POLL_MS;
const JOB = `subscription Watch($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id status tasks { status } } }`;
const EVENTS = `subscription Events($engineId: ID!) { engineJobEvents(engineId: $engineId) { kind job { id status } } }`;

let h: Harness;
beforeAll(async () => {
  // Backoff bounded, and the engine's breaker open for the failure test's window (it opens within
  // it, so it stays open to its end), so that test sees the recovery soon.
  h = await startHarness({
    SUBSCRIPTION_POLL_MS: String(POLL_MS),
    SUBSCRIPTION_MAX_BACKOFF_MS: String(8 * POLL_MS),
    CSE_BREAKER_OPEN_MS: String(FAILING_WINDOW_MS),
  });
});
afterAll(() => h.close());
beforeEach(() => h.simulator.reset());

const engineId = SEED.engines.onePage;

/** Calls the simulator received during `ms`, from now. */
async function callsDuring(ms: number, filter: Parameters<Harness['simulator']['callCount']>[0] = {}): Promise<number> {
  const before = h.simulator.callCount(filter);
  await sleep(ms);
  return h.simulator.callCount(filter) - before;
}

/** Intervals in a window, plus one for a poll that straddles its edge. */
const atMostOnePerInterval = (windowMs: number) => Math.ceil(windowMs / POLL_MS) + 1;

describe('one job, one token', () => {
  it('200 subscribers (8 sockets × 25) cost at most one upstream call per interval, and all get each change', async () => {
    const job = h.simulator.startJob(engineId, { taskCount: 2 });
    const clients = Array.from({ length: 8 }, () => liveClient(h.gateway.url));
    const subs = clients.flatMap((client) => Array.from({ length: 25 }, () => collect(client, JOB, { engineId, id: String(job.id) })));
    await Promise.all(subs.map((sub) => sub.next(1)));
    expect(subs.every((sub) => sub.results[0]!.data?.jobUpdated.status === 'PRE_INIT')).toBe(true);
    expect(h.gateway.subscriptions.active).toBe(200);

    const window = WINDOW_MS;
    const calls = await callsDuring(window);
    expect(calls).toBeGreaterThanOrEqual(window / POLL_MS / 2);
    expect(calls).toBeLessThanOrEqual(atMostOnePerInterval(window));
    expect(h.simulator.callCount({ route: 'listJobs' })).toBe(0); // one job watched: details calls, the cheaper read

    h.simulator.advanceJob(engineId, job.id);
    await Promise.all(subs.map((sub) => sub.next(2)));
    expect(subs.every((sub) => sub.results[1]!.data?.jobUpdated.status === 'INIT')).toBe(true);
    // Nothing changed since: nothing more is sent.
    await sleep(3 * POLL_MS);
    expect(subs.every((sub) => sub.results.length === 2)).toBe(true);
    await Promise.all(clients.map((client) => client.dispose()));
  });

  it('completes after the terminal state, and the job is polled no more', async () => {
    const job = h.simulator.startJob(engineId, { taskCount: 1 });
    const client = liveClient(h.gateway.url);
    const sub = collect(client, JOB, { engineId, id: String(job.id) });
    await sub.next(1);
    h.simulator.advanceJob(engineId, job.id, { to: 'Finished' });
    await sub.done;
    expect(sub.results.at(-1)!.data?.jobUpdated.status).toBe('FINISHED');
    expect(await callsDuring(4 * POLL_MS)).toBe(0);
    await eventually(() => h.gateway.metrics.registry !== undefined && h.gateway.subscriptions.active === 0, 'subscription count back to 0');
    await client.dispose();
  });

  it('stops polling within one interval of the last subscriber leaving', async () => {
    const job = h.simulator.startJob(engineId);
    const client = liveClient(h.gateway.url);
    const subs = [collect(client, JOB, { engineId, id: String(job.id) }), collect(client, JOB, { engineId, id: String(job.id) })];
    await Promise.all(subs.map((sub) => sub.next(1)));
    subs[0]!.stop();
    // One left: polling goes on for the other.
    expect(await callsDuring(3 * POLL_MS)).toBeGreaterThan(0);
    subs[1]!.stop();
    await sleep(POLL_MS); // a poll already in flight may still land
    expect(await callsDuring(4 * POLL_MS)).toBe(0);
    await client.dispose();
  });

  it('a job that does not exist: one null, then complete; a missing engine likewise', async () => {
    const client = liveClient(h.gateway.url);
    const missingJob = collect(client, JOB, { engineId, id: '999999999' });
    await missingJob.done;
    expect(missingJob.results).toEqual([{ data: { jobUpdated: null } }]);
    const missingEngine = collect(client, JOB, { engineId: SEED.engines.gone, id: '1' });
    await missingEngine.done;
    expect(missingEngine.results).toEqual([{ data: { jobUpdated: null } }]);
    await client.dispose();
  });
});

describe('many jobs of one engine', () => {
  it('50 running jobs cost one or two list calls per interval, no details calls', async () => {
    const jobs = Array.from({ length: 50 }, () => h.simulator.startJob(engineId, { taskCount: 2 }));
    const clients = Array.from({ length: 2 }, () => liveClient(h.gateway.url));
    const subs = jobs.map((job, i) => collect(clients[i % 2]!, JOB, { engineId, id: String(job.id) }));
    await Promise.all(subs.map((sub) => sub.next(1)));

    const window = WINDOW_MS;
    const details = h.simulator.callCount({ route: 'getJob' });
    const lists = await callsDuring(window, { route: 'listJobs' });
    expect(lists).toBeGreaterThanOrEqual(window / POLL_MS / 2);
    expect(lists).toBeLessThanOrEqual(2 * atMostOnePerInterval(window));
    expect(h.simulator.callCount({ route: 'getJob' })).toBe(details);

    // A change of any of them reaches its subscriber, and only its.
    h.simulator.advanceJob(engineId, jobs[17]!.id);
    await subs[17]!.next(2);
    await sleep(2 * POLL_MS);
    expect(subs.filter((sub) => sub.results.length > 1)).toEqual([subs[17]]);
    await Promise.all(clients.map((client) => client.dispose()));
  });

  it('a watched job beyond the polled pages gets its own details call', async () => {
    // A running job pushed past SUBSCRIPTION_LIST_PAGES (2) pages of 100 by newer ones.
    const big = SEED.engines.big;
    const buried = h.simulator.startJob(big);
    h.simulator.addJobs(big, 210);
    const newest = h.simulator.startJob(big);
    const page = await h.gql(`query($e: ID!) { engine(id: $e) { jobs(first: 100) { nodes { id } } } }`, { e: big });
    expect(page.body.data.engine.jobs.nodes[0].id).toBe(String(newest.id));
    const client = liveClient(h.gateway.url);
    const subs = [collect(client, JOB, { engineId: big, id: String(buried.id) }), collect(client, JOB, { engineId: big, id: String(newest.id) })];
    await Promise.all(subs.map((sub) => sub.next(1)));
    h.simulator.resetCalls();
    await sleep(5 * POLL_MS);
    const details = h.simulator.calls.filter((call) => call.route === 'getJob');
    expect(details.length).toBeGreaterThan(0);
    expect(new Set(details.map((call) => call.jobId))).toEqual(new Set([String(buried.id)]));
    // Two list pages and one details call per poll.
    const lists = h.simulator.callCount({ route: 'listJobs' });
    expect(lists).toBeGreaterThanOrEqual(2 * details.length - 2);
    expect(lists).toBeLessThanOrEqual(2 * details.length + 2);
    h.simulator.advanceJob(big, buried.id);
    expect((await subs[0]!.next(2))[1]!.data?.jobUpdated.status).toBe('INIT');
    await client.dispose();
  });
});

describe('credential scopes', () => {
  it('two tokens never share a poll: each scope polls for itself', async () => {
    const job = h.simulator.startJob(engineId);
    const first = liveClient(h.gateway.url);
    const second = liveClient(h.gateway.url, { connectionParams: { 'x-auth-token': SECOND_TOKEN } });
    const subs = [collect(first, JOB, { engineId, id: String(job.id) }), collect(second, JOB, { engineId, id: String(job.id) })];
    await Promise.all(subs.map((sub) => sub.next(1)));
    h.simulator.resetCalls();
    await sleep(WINDOW_MS);
    const byToken = (token: string) => h.simulator.calls.filter((call) => call.headers['x-auth-token'] === token).length;
    for (const token of [DEMO_TOKEN, SECOND_TOKEN]) {
      expect(byToken(token)).toBeGreaterThanOrEqual(5);
      expect(byToken(token)).toBeLessThanOrEqual(atMostOnePerInterval(WINDOW_MS));
    }
    expect(h.simulator.calls.length).toBe(byToken(DEMO_TOKEN) + byToken(SECOND_TOKEN));
    await Promise.all([first.dispose(), second.dispose()]);
  });
});

describe('engine events', () => {
  it('sends CREATED for a new job and CHANGED for a job that changed, with one list call per interval', async () => {
    const client = liveClient(h.gateway.url);
    const events = collect(client, EVENTS, { engineId });
    // The first poll sets what later ones are compared with; it sends nothing.
    await eventually(() => h.simulator.callCount({ route: 'listJobs' }) > 0, 'first poll');
    await sleep(POLL_MS);
    expect(events.results).toEqual([]);

    const job = h.simulator.startJob(engineId, { taskCount: 1 });
    const [created] = await events.next(1);
    expect(created!.data?.engineJobEvents).toEqual({ kind: 'CREATED', job: { id: String(job.id), status: 'PRE_INIT' } });
    h.simulator.advanceJob(engineId, job.id);
    const second = (await events.next(2))[1]!;
    expect(second.data?.engineJobEvents).toEqual({ kind: 'CHANGED', job: { id: String(job.id), status: 'INIT' } });
    // Unchanged jobs send nothing.
    await sleep(3 * POLL_MS);
    expect(events.results).toHaveLength(2);

    const window = WINDOW_MS;
    const calls = await callsDuring(window);
    expect(calls).toBeLessThanOrEqual(atMostOnePerInterval(window));
    await client.dispose();
  });

  it("a new events subscriber is told nothing of what changed before it subscribed, though the watch lived on for a job", async () => {
    const watched = h.simulator.startJob(engineId, { taskCount: 1 });
    const client = liveClient(h.gateway.url);
    const job = collect(client, JOB, { engineId, id: String(watched.id) });
    await job.next(1);
    const earlier = collect(client, EVENTS, { engineId });
    await eventually(() => h.simulator.callCount({ route: 'listJobs' }) > 0, 'a baseline');
    await sleep(2 * POLL_MS);
    earlier.stop();
    // Created while nobody watched the engine's events; the job's watch polls on.
    h.simulator.startJob(engineId, { taskCount: 1 });
    await sleep(3 * POLL_MS);
    const later = collect(client, EVENTS, { engineId });
    await sleep(4 * POLL_MS);
    expect(later.results).toEqual([]);
    const created = h.simulator.startJob(engineId, { taskCount: 1 });
    const [event] = await later.next(1);
    expect(event!.data?.engineJobEvents).toEqual({ kind: 'CREATED', job: { id: String(created.id), status: 'PRE_INIT' } });
    await client.dispose();
  });

  it('ends with NOT_FOUND for an engine that does not exist', async () => {
    const client = liveClient(h.gateway.url);
    const events = collect(client, EVENTS, { engineId: SEED.engines.gone });
    await expect(events.done).rejects.toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })]);
    await client.dispose();
  });
});

describe('while the upstream fails', () => {
  it('backs off, keeps subscriptions open without events, and resumes when it recovers', async () => {
    const job = h.simulator.startJob(engineId);
    const client = liveClient(h.gateway.url);
    const sub = collect(client, JOB, { engineId, id: String(job.id) });
    await sub.next(1);
    const clear = h.simulator.injectFault({ route: 'getJob', status: 503 });
    h.simulator.advanceJob(engineId, job.id);
    const window = FAILING_WINDOW_MS;
    const calls = await callsDuring(window, { route: 'getJob' });
    // Backing off: well under one poll per interval (retries included).
    expect(calls).toBeLessThan(atMostOnePerInterval(window) / 2);
    expect(sub.results).toHaveLength(1);
    expect(h.gateway.subscriptions.active).toBe(1);
    clear();
    const [, changed] = await sub.next(2);
    expect(changed!.data?.jobUpdated.status).toBe('INIT');
    await client.dispose();
  }, 20_000);
});
