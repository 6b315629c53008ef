import { SEED } from '@cse-jobs-gateway/simulator';
import * as fingerprints from '../../src/subscriptions/jobFingerprint';
import { startHarness, type Harness } from '../support/harness';
import { collect, eventually, liveClient } from '../support/liveClient';
import { rawJobs } from '../support/upstream';

/**
 * A job whose fields the upstream nests without end errs in its own fields, as a query's would:
 * its subscribers still get its events, and so do the subscribers of the jobs beside it.
 */

const engineId = SEED.engines.onePage;
const watched = 'subscription ($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id status } }';
// 20,000 levels in 40 KB: under the size past which the body's depth is checked.
const DEEP = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ SUBSCRIPTION_POLL_MS: '100', LOG_LEVEL: 'warn' });
});
afterAll(() => h.close());

it("sends a job's events though its context and a neighbour's are nested 20,000 levels deep", async () => {
  const job = h.simulator.startJob(engineId);
  const jobs = await rawJobs(h.simulator, engineId);
  const text = (each: object) => JSON.stringify({ ...each, context: '<deep>' }).replace('"<deep>"', DEEP);
  const page = `{"total":${jobs.length},"data":[${jobs.map(text).join(',')}]}`;
  h.simulator.injectFault({ route: 'listJobs', engineId, status: 200, body: page });
  h.simulator.injectFault({ route: 'getJob', engineId, status: 200, body: text(jobs.find((each) => each.id === job.id)!) });
  const client = liveClient(h.gateway.url);
  try {
    const events = collect(client, watched, { engineId, id: String(job.id) });
    const [first] = await events.next(1);
    expect(first!.data!.jobUpdated).toEqual({ id: String(job.id), status: 'PRE_INIT' });
  } finally {
    h.simulator.clearFaults();
    await client.dispose();
  }
});

it('tells a poll that failed with no code of its own (a gateway bug) once per watch, at error', async () => {
  const job = h.simulator.startJob(engineId);
  // Only this job's: a watch of the test before, still winding down on a loaded host, is not this one.
  const original = fingerprints.jobFingerprint;
  const bug = jest.spyOn(fingerprints, 'jobFingerprint').mockImplementation((each, maxTasks) => {
    if (String(each.id) === String(job.id)) throw new Error('bug: planted');
    return original(each, maxTasks);
  });
  const client = liveClient(h.gateway.url);
  const before = h.logs.length;
  try {
    collect(client, watched, { engineId, id: String(job.id) });
    // Polls every 100 ms (failed ones back off): a second one fails too.
    const failed = () => bug.mock.calls.filter(([each]) => String(each.id) === String(job.id)).length;
    await eventually(() => failed() >= 2, 'a second failed poll', 10_000);
    const told = h.logs.slice(before).filter((line) => line.includes('a subscription poll failed unexpectedly'));
    expect(told).toHaveLength(1);
    expect(JSON.parse(told[0]!)).toMatchObject({ level: 'error', err: expect.objectContaining({ message: 'bug: planted' }) });
  } finally {
    bug.mockRestore();
    await client.dispose();
  }
});

it("compares a newest page of many large jobs in turns of the event loop, and still tells what changed", async () => {
  const jobs = (await rawJobs(h.simulator, engineId)).slice(0, 20);
  // 20 jobs of 500 tasks: several turns' worth of fingerprints.
  const large = (job: (typeof jobs)[number], status: string) => ({
    ...job,
    status,
    tasks: Array.from({ length: 500 }, (_, i) => ({ id: `${job.id}-${i}`, jobId: job.id, taskName: `t${i}`, taskOrder: i, status: 'RUNNING' })),
  });
  const page = (changed?: number) => JSON.stringify({ total: jobs.length, data: jobs.map((job) => large(job, job.id === changed ? 'ERROR' : 'RUNNING')) });
  const unchanged = h.simulator.injectFault({ route: 'listJobs', engineId, status: 200, body: page() });
  let tick = 0;
  let ticking = true;
  const ticker = () => {
    tick += 1;
    if (ticking) setImmediate(ticker);
  };
  setImmediate(ticker);
  const ticks: number[] = [];
  const real = fingerprints.jobFingerprint;
  const spy = jest.spyOn(fingerprints, 'jobFingerprint').mockImplementation((...args) => {
    ticks.push(tick);
    return real(...args);
  });
  const client = liveClient(h.gateway.url);
  try {
    const events = collect(client, `subscription ($engineId: ID!) { engineJobEvents(engineId: $engineId) { kind job { id status } } }`, { engineId });
    await eventually(() => ticks.length >= jobs.length, 'the first poll');
    unchanged();
    h.simulator.injectFault({ route: 'listJobs', engineId, status: 200, body: page(jobs[3]!.id as number) });
    const [event] = await events.next(1);
    expect(event!.data!.engineJobEvents).toEqual({ kind: 'CHANGED', job: { id: String(jobs[3]!.id), status: 'ERROR' } });
    expect(new Set(ticks.slice(0, jobs.length)).size).toBeGreaterThan(1);
  } finally {
    ticking = false;
    spy.mockRestore();
    h.simulator.clearFaults();
    await client.dispose();
  }
});
