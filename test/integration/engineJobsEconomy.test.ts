import { SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';

/**
 * `engine(id) { jobs(...) }` costs ONE upstream call: when the engine's selection needs nothing
 * but `id`, `__typename` and `jobs`, the job list proves the engine exists and no details are
 * fetched. Everything else must behave exactly as if the details had been fetched.
 */

const PAGE = `
  edges { cursor node { id type status startTime tasks { id name status } } }
  pageInfo { hasNextPage endCursor }
  totalCount`;
const S1 = `query ($id: ID!, $after: String) { engine(id: $id) { jobs(first: 20, after: $after) { ${PAGE} } } }`;
const MISSING = 'f0000000-0000-4000-8000-0000000000aa';

let h: Harness;
beforeAll(async () => {
  h = await startHarness(CACHES_OFF);
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.simulator.reset();
});

it('answers the S1 page with one job-list call and no engine details, the same data as with details', async () => {
  const withDetails = await h.gql(
    `query ($id: ID!) { engine(id: $id) { name jobs(first: 20) { ${PAGE} } } }`,
    { id: SEED.engines.big },
  );
  h.simulator.resetCalls();
  const response = await h.gql(S1, { id: SEED.engines.big });
  expect(response.body.errors).toBeUndefined();
  expect(h.simulator.calls.map((call) => call.route)).toEqual(['listJobs']);
  expect(response.body.data.engine.jobs).toEqual(withDetails.body.data.engine.jobs);
  expect(response.body.data.engine.jobs.edges).toHaveLength(20);
});

it('answers the misaligned S2 page (after item 14) with one call', async () => {
  const first = await h.gql(S1, { id: SEED.engines.big });
  const after = first.body.data.engine.jobs.edges[14].cursor as string;
  h.simulator.resetCalls();
  const response = await h.gql(S1, { id: SEED.engines.big, after });
  expect(response.body.errors).toBeUndefined();
  expect(h.simulator.calls.map((call) => call.route)).toEqual(['listJobs']);
  expect(response.body.data.engine.jobs.edges[0].node.id).toBe(first.body.data.engine.jobs.edges[15].node.id);
});

it.each([
  ['an id that never existed', MISSING],
  ['an engine that is gone', SEED.engines.gone],
  ['an engine of another project', SEED.engines.other],
])('is null without an error for %s, from the list call alone', async (_name, id) => {
  const response = await h.gql(S1, { id });
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data).toEqual({ engine: null });
  expect(h.simulator.callCount({ route: 'getEngine' })).toBe(0);
  expect(h.simulator.callCount({ route: 'listJobs' })).toBe(1);
});

/** One `engine` field over the big engine with this selection (and fragment definitions). */
function engineQuery(selection: string, fragments = ''): string {
  const v = selection.includes('$v') ? ', $v: Boolean!' : '';
  return `query ($id: ID!${v}) { engine(id: $id) ${selection} } ${fragments}`;
}

it.each([
  ['id and __typename beside jobs', '{ id __typename jobs(first: 3) { totalCount } }', '', {}],
  ['jobs through a named fragment', '{ ...F }', 'fragment F on Engine { id jobs(first: 3) { totalCount } }', {}],
  ['jobs through an inline fragment', '{ ... on Engine { jobs(first: 3) { totalCount } } }', '', {}],
  ['a field skipped by @skip', '{ name @skip(if: true) jobs(first: 3) { totalCount } }', '', {}],
  ['a field left out by @include(if: $v), v false', '{ name @include(if: $v) jobs(first: 3) { totalCount } }', '', { v: false }],
  ['a fragment left out by @include(if: $v), v false', '{ jobs(first: 3) { totalCount } ...F @include(if: $v) }', 'fragment F on Engine { name }', { v: false }],
])('costs no engine details for %s', async (_name, selection, fragments, variables) => {
  const response = await h.gql(engineQuery(selection, fragments), { id: SEED.engines.big, ...variables });
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data.engine).not.toBeNull();
  expect(h.simulator.calls.map((call) => call.route)).toEqual(['listJobs']);
});

it('costs one list call per distinct jobs field, and no details', async () => {
  const response = await h.gql(
    engineQuery('{ a: jobs(first: 3) { totalCount } b: jobs(first: 3) { totalCount } c: jobs(first: 2, filter: { from: "2000-01-01T00:00:00.000Z" }) { totalCount } }'),
    { id: SEED.engines.big },
  );
  expect(response.body.errors).toBeUndefined();
  expect(h.simulator.callCount({ route: 'getEngine' })).toBe(0);
  expect(h.simulator.callCount({ route: 'listJobs' })).toBe(2);
});

it.each([
  ['a field beside jobs', '{ name jobs(first: 3) { totalCount } }', '', {}],
  ['a field in a fragment', '{ ...F }', 'fragment F on Engine { jobs(first: 3) { totalCount } status }', {}],
  ['a field kept by @include(if: $v), v true', '{ name @include(if: $v) jobs(first: 3) { totalCount } }', '', { v: true }],
  ['latestJob beside jobs', '{ latestJob { id } jobs(first: 3) { totalCount } }', '', {}],
  ['only the id (nothing else proves existence)', '{ id }', '', {}],
])('still fetches the engine details for %s', async (_name, selection, fragments, variables) => {
  const response = await h.gql(engineQuery(selection, fragments), { id: SEED.engines.big, ...variables });
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data.engine).not.toBeNull();
  expect(h.simulator.callCount({ route: 'getEngine' })).toBe(1);
});

it('keeps each field at its own path when the jobs arguments are bad', async () => {
  const bad = 'not-a-cursor';
  // An existing engine: the cursor is refused at engine.jobs, as it always was (jobs is non-null,
  // so the engine becomes null), after the details proved the engine exists.
  const existing = await h.gql(S1, { id: SEED.engines.big, after: bad });
  expect(errorCodes(existing)).toEqual(['BAD_USER_INPUT']);
  expect(existing.body.errors?.[0]?.path).toEqual(['engine', 'jobs']);
  // A missing engine: null without an error, as when the details are fetched first.
  h.simulator.resetCalls();
  const missing = await h.gql(S1, { id: MISSING, after: bad });
  expect(missing.body.errors).toBeUndefined();
  expect(missing.body.data).toEqual({ engine: null });
  expect(h.simulator.callCount({ route: 'listJobs' })).toBe(0);
});

it('keeps an upstream failure of the list at engine.jobs', async () => {
  h.simulator.injectFault({ route: 'listJobs', status: 500, dialect: 'cse', errorCode: 'SVCSTG.00300500' });
  const response = await h.gql(S1, { id: SEED.engines.big });
  expect(response.body.data).toEqual({ engine: null });
  expect(response.body.errors?.map((error) => error.path)).toEqual([['engine', 'jobs']]);
  expect(h.simulator.callCount({ route: 'getEngine' })).toBe(1);
});

it('shares the connection with Engine.jobs: two engine fields over the same engine cost one list call', async () => {
  const response = await h.gql(
    `query ($id: ID!) { a: engine(id: $id) { jobs(first: 5) { totalCount } } b: engine(id: $id) { jobs(first: 5) { totalCount } } }`,
    { id: SEED.engines.big },
  );
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data.a).toEqual(response.body.data.b);
  expect(h.simulator.calls.map((call) => call.route)).toEqual(['listJobs']);
});
