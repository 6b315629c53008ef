import { SECOND_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';
import { collect, eventually, liveClient, sleep, type Collected } from '../support/liveClient';

/**
 * The upstream calls of executing subscription events count against their credential scope's
 * SUBSCRIPTION_MAX_CALLS_PER_POLL, as its polls' do: past it, an event's field that would call
 * fails with QUERY_TOO_COMPLEX (reason CALLS_PER_POLL) rather than calling.
 */

const engineId = SEED.engines.onePage;
const POLL_MS = 200;
const MAX_CALLS = 10;

/** Admitted alone (21 calls an event, 20 items): 20 one-job pages no two subscriptions share. */
function amplifying(k: number): string {
  const pages = Array.from({ length: 20 }, (_, i) => {
    const from = new Date(Date.UTC(2020, 0, 1, 0, k, i)).toISOString();
    return `a${i}: jobs(first: 1, filter: { from: "${from}" }) { nodes { id } }`;
  });
  return `subscription ($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id description engine { ${pages.join(' ')} } } }`;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ...CACHES_OFF, SUBSCRIPTION_POLL_MS: String(POLL_MS) });
});
afterAll(() => h.close());

it('caps what one scope’s events call at its budget per interval, over several sockets, apart from other scopes', async () => {
  const job = h.simulator.startJob(engineId);
  const variables = { engineId, id: String(job.id) };
  const sockets = [liveClient(h.gateway.url), liveClient(h.gateway.url)];
  // 25 on each socket, the most one socket may hold: 50 groups, 1,050 calls an event at most.
  const subs = sockets.flatMap((client, s) => Array.from({ length: 25 }, (_, k) => collect(client, amplifying(25 * s + k), variables)));
  // Another token: its own scope and budget.
  const other = liveClient(h.gateway.url, { connectionParams: { 'X-Auth-Token': SECOND_TOKEN } });
  const plain = collect(other, 'subscription ($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id description engine { name } } }', variables);
  await eventually(() => [...subs, plain].every((sub) => sub.results.length > 0), 'first states', 20_000);

  // One change: its events make the calls of the intervals it took (one or two on an idle host), not 50 × 20 list calls.
  const last = (sub: Collected) => sub.results.at(-1)?.data?.jobUpdated.description;
  h.simulator.resetCalls();
  const changed = performance.now();
  h.simulator.updateJob(engineId, job.id, { description: 'once' });
  await eventually(() => subs.every((sub) => last(sub) === 'once'), 'the change', 10_000);
  await sleep(2 * POLL_MS);
  const took = Math.ceil((performance.now() - changed) / POLL_MS);
  expect(h.simulator.callCount({ route: 'listJobs' })).toBeLessThanOrEqual(MAX_CALLS * Math.max(2, took));

  h.simulator.resetCalls();
  const started = performance.now();
  for (let n = 0; n < 8; n += 1) {
    h.simulator.updateJob(engineId, job.id, { description: `change ${n}` });
    await sleep(POLL_MS);
  }
  const intervals = Math.ceil((performance.now() - started) / POLL_MS) + 1;
  const ofDemo = h.simulator.calls.filter((call) => call.headers['x-auth-token'] !== SECOND_TOKEN).length;
  // Polls and events together; a window boundary may fall within an interval, so one interval's slack.
  expect(ofDemo).toBeLessThanOrEqual(MAX_CALLS * (intervals + 1));
  // The events went on: capped fields fail with the code and reason, the others keep their data.
  const capped = (sub: Collected) => sub.results.flatMap((result) => result.errors ?? []);
  const refusals = subs.flatMap(capped);
  expect(refusals.length).toBeGreaterThan(0);
  expect(refusals[0]!.extensions).toEqual(expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', reason: 'CALLS_PER_POLL', limit: MAX_CALLS }));
  await eventually(() => subs.every((sub) => last(sub) === 'change 7'), 'the last change', 10_000);
  // The other scope's events called as they would have: none refused.
  expect(capped(plain)).toEqual([]);
  expect(plain.results.at(-1)!.data!.jobUpdated.engine.name).toEqual(expect.any(String));

  [...subs, plain].forEach((sub) => sub.stop());
  await Promise.all([...sockets, other].map((client) => client.dispose()));
}, 45_000);
