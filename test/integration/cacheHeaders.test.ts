import { SEED } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { rawJobs } from '../support/upstream';

/**
 * The Cache-Control header for every kind of root field, pinned as Apollo's cache-control plugin
 * wrote it (default TTLs: lists 2 s, engines 10 s, running jobs 2.5 s, terminal jobs 600 s):
 * the shortest TTL among the fields that fetched, the shortest of all for root fields nobody
 * listed (federation's), and nothing at all for an operation of introspection only.
 */
const A = SEED.engines.big;

describe('Cache-Control by field', () => {
  let h: Harness;
  let finished: string;
  let running: string;
  beforeAll(async () => {
    h = await startHarness();
    const jobs = await rawJobs(h.simulator, A);
    finished = String(jobs.find((job) => job.status === 'Finished')!.id);
    running = String(jobs.find((job) => job.status === 'Executing')!.id);
  });
  afterAll(() => h.close());

  const cases: Array<[string, () => string, string]> = [
    ['introspection only (__typename)', () => '{ __typename }', 'no-store'],
    ['introspection only (__schema)', () => '{ __schema { queryType { name } } }', 'no-store'],
    ['a root field next to __typename', () => '{ __typename engines(first: 1) { nodes { id } } }', 'max-age=2, private'],
    ['federation _service (an unlisted root field: the shortest TTL)', () => '{ _service { sdl } }', 'max-age=2, private'],
    [
      'federation _entities (an unlisted root field: the shortest TTL)',
      () => `{ _entities(representations: [{ __typename: "Engine", id: "${A}" }]) { ... on Engine { id name } } }`,
      'max-age=2, private',
    ],
    ['a terminal job', () => `{ job(engineId: "${A}", id: "${finished}") { id status } }`, 'max-age=600, private'],
    ['a terminal job with its engine (the engine TTL is shorter)', () => `{ job(engineId: "${A}", id: "${finished}") { id engine { id } } }`, 'max-age=10, private'],
    ['a running job', () => `{ job(engineId: "${A}", id: "${running}") { id status } }`, 'max-age=2, private'],
    ['a job that does not exist (null)', () => `{ job(engineId: "${A}", id: "999999999") { id } }`, 'max-age=2, private'],
    ['an engine with only scalars', () => `{ engine(id: "${A}") { id name status } }`, 'max-age=10, private'],
    ['an engine whose jobs prove it exists (jobs-only shortcut)', () => `{ engine(id: "${A}") { id jobs(first: 2) { totalCount } } }`, 'max-age=2, private'],
    ['the same field twice under aliases', () => `{ a: engine(id: "${A}") { id } b: engine(id: "${A}") { name } }`, 'max-age=10, private'],
    ['a skipped fetching field does not count', () => `{ engine(id: "${A}") { id jobs(first: 1) @skip(if: true) { totalCount } name } }`, 'max-age=10, private'],
  ];

  it.each(cases)('%s', async (_name, query, header) => {
    const response = await h.gql(query());
    expect(response.body.errors).toBeUndefined();
    expect(response.headers['cache-control']).toBe(header);
  });

  it('an engine with its latest job: the shorter of the engine TTL and that job’s', async () => {
    const response = await h.gql(`{ engines(first: 7) { nodes { id } } engine(id: "${A}") { latestJob { id status } } }`);
    expect(response.body.errors).toBeUndefined();
    expect(response.headers['cache-control']).toBe('max-age=2, private');
    const alone = await h.gql(`{ engine(id: "${A}") { latestJob { id status } } }`);
    const status = alone.body.data.engine.latestJob?.status;
    const terminal = ['FINISHED', 'ERROR', 'TIMEOUT'].includes(status);
    expect(alone.headers['cache-control']).toBe(terminal || status === undefined ? 'max-age=10, private' : 'max-age=2, private');
  });

  it('no-store for a partial answer (one field failed, the other did not)', async () => {
    const response = await h.gql(`{ engine(id: "${A}") { id } job(engineId: "${A}", id: "not-a-number") { id } }`);
    expect(response.body.data?.engine?.id).toBe(A);
    expect(response.body.errors?.length).toBeGreaterThan(0);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('Vary names what an answer depends on (media type, token, project), once it is stored, and Origin', async () => {
    const names = (vary: unknown) => String(vary).toLowerCase().split(/\s*,\s*/).sort();
    // Origin too: this gateway's CORS names allowed origins, so it varies on it (one Vary header).
    const expected = ['accept', 'authorization', 'origin', 'x-auth-token', 'x-enterprise-project-id', 'x-project-id'];
    const query = `{ job(engineId: "${A}", id: "${finished}") { id status } }`;
    for (let i = 0; i < 2; i += 1) {
      const response = await h.gql(query);
      expect(response.headers['cache-control']).toBe('max-age=600, private');
      expect(names(response.headers.vary)).toEqual(expected);
    }
  });

  it('no-store for a request refused before execution', async () => {
    const response = await h.gql('{ nope }');
    expect(response.headers['cache-control']).toBe('no-store');
  });
});
