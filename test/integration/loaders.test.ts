import { SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';

/** Upstream economy: what one operation costs the upstream, counted by the simulator. */

let h: Harness;
beforeAll(async () => {
  // Counts upstream calls per operation: the response cache would serve repeats across operations.
  h = await startHarness(CACHES_OFF);
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.simulator.reset();
});

it('makes identical requests of one operation once: two aliases asking for the same page', async () => {
  const response = await h.gql(
    `query ($id: ID!) {
      a: engine(id: $id) { name jobs(first: 20) { nodes { id status } } }
      b: engine(id: $id) { status jobs(first: 20) { totalCount nodes { id type } } }
    }`,
    { id: SEED.engines.big },
  );
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data.a.jobs.nodes.map((n: { id: string }) => n.id)).toEqual(
    response.body.data.b.jobs.nodes.map((n: { id: string }) => n.id),
  );
  expect(h.simulator.callCount({ route: 'getEngine' })).toBe(1);
  expect(h.simulator.callCount({ route: 'listJobs' })).toBe(1);
  expect(h.simulator.calls).toHaveLength(2);
});

it('fans out over engines × jobs with one list call per engine and no detail call for latestJob', async () => {
  const response = await h.gql(`{
    engines(first: 7) {
      nodes { id name status latestJob { id status } jobs(first: 5) { nodes { id status type } } }
    }
  }`);
  expect(response.body.errors).toBeUndefined();
  const engines = response.body.data.engines.nodes as Array<{
    id: string;
    latestJob: { id: string } | null;
    jobs: { nodes: Array<{ id: string }> };
  }>;
  expect(engines).toHaveLength(7);
  for (const engine of engines) {
    // latestJob is the head of the engine's newest-first list.
    expect(engine.latestJob?.id ?? null).toBe(engine.jobs.nodes[0]?.id ?? null);
  }
  expect(h.simulator.callCount({ route: 'listEngines' })).toBe(1);
  expect(h.simulator.callCount({ route: 'listJobs' })).toBe(7);
  expect(h.simulator.callCount({ route: 'getJob' })).toBe(0);
  expect(h.simulator.callCount({ route: 'getEngine' })).toBe(0);
});

it('runs the fan-out concurrently, never more calls at once than the per-operation bound', async () => {
  const bounded = await startHarness({ ...CACHES_OFF, CSE_REQUEST_CONCURRENCY: '2' });
  try {
    // Latency keeps each call open long enough for the others to overlap it.
    bounded.simulator.injectFault({ route: 'listJobs', latencyMs: 60 });
    const response = await bounded.gql('{ engines(first: 6) { nodes { jobs(first: 1) { totalCount } } } }');
    expect(response.body.errors).toBeUndefined();
    expect(bounded.simulator.callCount({ route: 'listJobs' })).toBe(6);
    expect(bounded.simulator.peakInFlight).toBe(2);
  } finally {
    await bounded.close();
  }
  h.simulator.injectFault({ route: 'listJobs', latencyMs: 60 });
  await h.gql('{ engines(first: 6) { nodes { jobs(first: 1) { totalCount } } } }');
  // The default bound (8) lets all six run at once.
  expect(h.simulator.peakInFlight).toBe(6);
});

it('reuses a job from a list page when the same operation asks for it by id afterwards', async () => {
  const response = await h.gql(
    `query ($id: ID!) {
      engine(id: $id) { jobs(first: 3) { nodes { id engine { name } tasks { id } } } latestJob { id tasks { id } } }
    }`,
    { id: SEED.engines.onePage },
  );
  expect(response.body.errors).toBeUndefined();
  expect(h.simulator.callCount({ route: 'getJob' })).toBe(0);
  // Job.engine is the engine already loaded by id.
  expect(h.simulator.callCount({ route: 'getEngine' })).toBe(1);
});
