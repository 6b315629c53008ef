import { SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';
import { eventually } from '../support/liveClient';

/**
 * A request that waits for an identical one in flight (operation-level single flight) spends its own
 * REQUEST_TIMEOUT_MS doing so: when the leader's answer is not shared (it timed out), the follower runs on
 * what is left of its time, not on a new one: every wait has one deadline, from the request's arrival. And
 * an upstream call that joined another operation's (the same page for another document) is not cut short
 * at that operation's deadline: it asks again, on what is left of its own time.
 */
const PAGE = `query Page($id: ID!) { engine(id: $id) { jobs(first: 20) { edges { cursor node { id status } } totalCount } } }`;
const TIMEOUT_MS = 1000;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ...CACHES_OFF, REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) });
});
afterAll(() => h.close());

it("ends a follower at its own deadline when the leader's answer is not shared", async () => {
  const id = SEED.engines.big;
  h.simulator.injectFault({ route: 'listJobs', engineId: id, latencyMs: 10 * TIMEOUT_MS, times: 2 });
  const leader = h.gql(PAGE, { id });
  await eventually(() => h.simulator.callCount({ route: 'listJobs' }) >= 1, 'the leader asks for the page');
  const arrived = performance.now();
  const follower = await h.gql(PAGE, { id });
  const took = performance.now() - arrived;
  expect(errorCodes(await leader)).toContain('UPSTREAM_TIMEOUT');
  // Answered as the leader was: a GraphQL answer with its data, not a failed request.
  expect(follower.status).toBe(200);
  expect(follower.body).toMatchObject({ data: { engine: null }, errors: [{ extensions: { code: 'UPSTREAM_TIMEOUT' } }] });
  // Its own time, not the leader's and then its own again (about twice it).
  expect(took).toBeLessThan(1.6 * TIMEOUT_MS);
});

it("asks the upstream again, on its own time, when the call it joined ends at another operation's deadline", async () => {
  const id = SEED.engines.big;
  // The test before may leave its second fault unused (its follower out of time before it called).
  h.simulator.clearFaults();
  h.simulator.injectFault({ route: 'listJobs', engineId: id, latencyMs: 10 * TIMEOUT_MS, times: 1 });
  const calls = h.simulator.callCount({ route: 'listJobs' });
  const first = h.gql(PAGE, { id });
  await eventually(() => h.simulator.callCount({ route: 'listJobs' }) === calls + 1, 'the first operation asks for the page');
  await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS / 2));
  // Another document, the same upstream page: it joins the call in flight.
  const later = h.gql(PAGE.replace('totalCount', 'totalCount pageInfo { hasNextPage }'), { id });
  expect(errorCodes(await first)).toContain('UPSTREAM_TIMEOUT');
  const answer = await later;
  expect(answer.body.errors).toBeUndefined();
  expect(h.simulator.callCount({ route: 'listJobs' })).toBe(calls + 2);
});
