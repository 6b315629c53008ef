import { DEMO_TOKEN, SECOND_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { collect, eventually, liveClient, sleep, type Collected } from '../support/liveClient';
import type { Client } from 'graphql-ws';

/**
 * What one credential scope's subscriptions may cost the upstream: at most
 * SUBSCRIPTION_MAX_CALLS_PER_POLL calls per interval however many jobs it watches (each then
 * polled less often), and at most SUBSCRIPTION_MAX_WATCHED_PER_SCOPE distinct things watched.
 * Real WebSockets against the gateway and the simulator, which counts the calls.
 */

const POLL_MS = 100;
const MAX_CALLS = 4;
const MAX_WATCHED = 26;
const JOB = `subscription Watch($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id status } }`;
const big = SEED.engines.big;

let h: Harness;
let clients: Client[];
beforeAll(async () => {
  h = await startHarness({
    SUBSCRIPTION_POLL_MS: String(POLL_MS),
    SUBSCRIPTION_MAX_CALLS_PER_POLL: String(MAX_CALLS),
    SUBSCRIPTION_MAX_WATCHED_PER_SCOPE: String(MAX_WATCHED),
  });
});
afterAll(() => h.close());
beforeEach(() => {
  h.simulator.reset();
  clients = [];
});
afterEach(() => Promise.all(clients.map((client) => client.dispose())));

function client(token?: string, enterpriseProjectId?: string): Client {
  const made =
    token === undefined && enterpriseProjectId === undefined
      ? liveClient(h.gateway.url)
      : liveClient(h.gateway.url, { connectionParams: { 'X-Auth-Token': token ?? DEMO_TOKEN, ...(enterpriseProjectId === undefined ? {} : { 'X-Enterprise-Project-ID': enterpriseProjectId }) } });
  clients.push(made);
  return made;
}

/** `count` running jobs of the big engine, pushed past the two newest pages by 210 newer ones. */
function buriedJobs(count: number) {
  const jobs = Array.from({ length: count }, () => h.simulator.startJob(big));
  h.simulator.addJobs(big, 210);
  return jobs;
}

/** `count` subscriptions to jobs, 20 per socket (under SUBSCRIPTION_MAX_PER_CONNECTION). */
function watch(jobs: ReadonlyArray<{ id: number | string }>, token?: string): Collected[] {
  const sockets = Array.from({ length: Math.ceil(jobs.length / 20) }, () => client(token));
  return jobs.map((job, i) => collect(sockets[Math.floor(i / 20)]!, JOB, { engineId: big, id: String(job.id) }));
}

describe('SUBSCRIPTION_MAX_CALLS_PER_POLL', () => {
  it('24 jobs off the newest pages cost at most the bound per interval (not one details call each), and each is still read in turn', async () => {
    const jobs = buriedJobs(24);
    const subs = watch(jobs);
    // A pass over everything: the two list pages and the 24 details calls, MAX_CALLS per interval.
    const pass = Math.ceil((2 + jobs.length) / MAX_CALLS) + 1;
    await Promise.all(subs.map((sub) => sub.next(1)));

    h.simulator.resetCalls();
    const started = performance.now();
    // Counted in calls, not time (the timers of a loaded machine stretch the intervals): every
    // watched job gets its details call within two passes' calls.
    const read = () => new Set(h.simulator.calls.filter((call) => call.route === 'getJob').map((call) => call.jobId));
    await eventually(() => read().size === jobs.length, 'every watched job read', 20_000);
    const calls = h.simulator.calls.length;
    expect(calls).toBeGreaterThan(0);
    expect(read()).toEqual(new Set(jobs.map((job) => String(job.id))));
    expect(calls).toBeLessThanOrEqual(2 * pass * MAX_CALLS);
    // Intervals in the window, plus one its edges may cut.
    expect(calls).toBeLessThanOrEqual(MAX_CALLS * (Math.ceil((performance.now() - started) / POLL_MS) + 1));

    // A change of one of them reaches its subscriber within a pass (two, on a loaded machine).
    const before = h.simulator.calls.length;
    h.simulator.advanceJob(big, jobs[13]!.id);
    expect((await subs[13]!.next(2))[1]!.data?.jobUpdated.status).toBe('INIT');
    expect(h.simulator.calls.length - before).toBeLessThanOrEqual(2 * pass * MAX_CALLS);
  });
});

describe('SUBSCRIPTION_MAX_WATCHED_PER_SCOPE', () => {
  it('refuses a subscribe to one more distinct job with TOO_MANY_WATCHED; more subscribers of a watched job, and another token, are not refused', async () => {
    const jobs = buriedJobs(MAX_WATCHED + 1);
    const subs = watch(jobs.slice(0, MAX_WATCHED));
    await Promise.all(subs.map((sub) => sub.next(1)));

    const socket = client();
    const refused = collect(socket, JOB, { engineId: big, id: String(jobs[MAX_WATCHED]!.id) });
    // One result with the error, then complete: the socket and its other subscriptions go on.
    await refused.done;
    expect(refused.results).toEqual([
      {
        errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'TOO_MANY_WATCHED', limit: MAX_WATCHED }) })],
      },
    ]);

    // Something already watched costs nothing more: not refused.
    const again = collect(socket, JOB, { engineId: big, id: String(jobs[0]!.id) });
    expect((await again.next(1))[0]!.data?.jobUpdated.id).toBe(String(jobs[0]!.id));
    // Another scope counts for itself.
    const other = collect(client(SECOND_TOKEN), JOB, { engineId: big, id: String(jobs[MAX_WATCHED]!.id) });
    expect((await other.next(1))[0]!.data?.jobUpdated.id).toBe(String(jobs[MAX_WATCHED]!.id));

    // The same token naming other enterprise projects is the same caller: its bound, not a new one each.
    const elsewhere = collect(client(undefined, 'ep-1'), JOB, { engineId: big, id: String(jobs[MAX_WATCHED]!.id) });
    await elsewhere.done;
    expect(elsewhere.results).toEqual([{ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'TOO_MANY_WATCHED' }) })] }]);

    // One left: the refused job may be watched now.
    subs[0]!.stop();
    again.stop();
    await sleep(50);
    const admitted = collect(socket, JOB, { engineId: big, id: String(jobs[MAX_WATCHED]!.id) });
    expect((await admitted.next(1))[0]!.data?.jobUpdated.id).toBe(String(jobs[MAX_WATCHED]!.id));
  });
});
