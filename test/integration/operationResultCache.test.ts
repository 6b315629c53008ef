import { DEMO_PROJECT_ID, OTHER_TOKEN, SECOND_TOKEN, SEED } from '../../src/simulator';
import { CACHE_OFF, errorCodes, startHarness, type Harness } from '../support/harness';

/**
 * The whole-operation result cache: the same caller polling the same query is answered without
 * execution or upstream calls, per credential scope only, never for errors or "not found", and
 * with the same Cache-Control header (plus `age`).
 */

const PAGE = `query ($id: ID!) { engine(id: $id) { jobs(first: 20) { edges { cursor node { id status } } totalCount } } }`;

/** The per-operation log lines written so far. */
function operationLines(h: Harness): Array<{ upstreamCalls: number; cacheHits: number }> {
  return h.logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'graphql operation');
}

describe('with the default caches', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ LOG_LEVEL: 'info' });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.simulator.reset();
    h.logs.length = 0;
  });

  it('serves a repeated query from the result cache: no upstream call, no upstream cache lookup, same body and Cache-Control', async () => {
    const first = await h.gql(PAGE, { id: SEED.engines.big });
    const second = await h.gql(PAGE, { id: SEED.engines.big });
    expect(first.body.errors).toBeUndefined();
    expect(second.text).toBe(first.text);
    expect(h.simulator.calls.map((call) => call.route)).toEqual(['listJobs']);
    // The second operation did not even reach the upstream cache.
    expect(operationLines(h).map(({ upstreamCalls, cacheHits }) => [upstreamCalls, cacheHits])).toEqual([
      [1, 0],
      [0, 0],
    ]);
    expect(first.headers['cache-control']).toBe('max-age=2, private');
    expect(second.headers['cache-control']).toBe('max-age=2, private');
    expect(first.headers.age).toBeUndefined();
    expect(second.headers.age).toMatch(/^\d+$/);
  });

  it('never shares a result between two tokens, nor across projects', async () => {
    const id = SEED.engines.onePage;
    await h.gql(PAGE, { id });
    const second = await h.gql(PAGE, { id }, { 'x-auth-token': SECOND_TOKEN });
    expect(second.headers.age).toBeUndefined();
    expect(h.simulator.calls.map((call) => call.headers['x-auth-token'])).toHaveLength(2);
    // A token of another project asking for the demo project is refused by the upstream, not served.
    const other = await h.gql(PAGE, { id }, { 'x-auth-token': OTHER_TOKEN, 'x-project-id': DEMO_PROJECT_ID });
    expect(errorCodes(other)).toEqual(['FORBIDDEN']);
    expect(h.simulator.calls.filter((call) => call.headers['x-auth-token'] === OTHER_TOKEN).length).toBeGreaterThan(0);
  });

  it('keys results by variables too', async () => {
    await h.gql(PAGE, { id: SEED.engines.single });
    const other = await h.gql(PAGE, { id: SEED.engines.maxPage });
    expect(other.headers.age).toBeUndefined();
    expect(h.simulator.callCount({ route: 'listJobs' })).toBe(2);
  });

  it('never stores a result with errors', async () => {
    const id = SEED.engines.onePagePlusOne;
    h.simulator.injectFault({ route: 'listJobs', engineId: id, status: 403, dialect: 'cse', times: 1 });
    expect(errorCodes(await h.gql(PAGE, { id }))).toEqual(['FORBIDDEN']);
    const next = await h.gql(PAGE, { id });
    expect(next.body.errors).toBeUndefined();
    expect(next.headers.age).toBeUndefined();
    expect(h.simulator.callCount({ route: 'listJobs', engineId: id })).toBe(2);
  });

  it('never stores a result that involved a "not found"', async () => {
    const missing = 'f0000000-0000-4000-8000-0000000000bb';
    expect((await h.gql(PAGE, { id: missing })).body.data).toEqual({ engine: null });
    const again = await h.gql(PAGE, { id: missing });
    expect(again.body.data).toEqual({ engine: null });
    expect(again.headers.age).toBeUndefined();
    expect(h.simulator.callCount({ engineId: missing })).toBe(2);
  });

  it('never stores a result built from upstream cache entries (it would outlive their TTL)', async () => {
    const id = SEED.engines.drift;
    const withName = `query ($id: ID!) { engine(id: $id) { name jobs(first: 2) { totalCount } } }`;
    await h.gql(`query ($id: ID!) { engine(id: $id) { name } }`, { id });
    await h.gql(withName, { id }); // engine details from the upstream cache
    const third = await h.gql(withName, { id });
    expect(third.headers.age).toBeUndefined();
    expect(operationLines(h).map((line) => line.cacheHits)).toEqual([0, 1, 2]);
  });
});

it('is off when every TTL is 0', async () => {
  const h = await startHarness(CACHE_OFF);
  try {
    await h.gql(PAGE, { id: SEED.engines.big });
    const second = await h.gql(PAGE, { id: SEED.engines.big });
    expect(second.headers.age).toBeUndefined();
    expect(h.simulator.callCount({ route: 'listJobs' })).toBe(2);
  } finally {
    await h.close();
  }
});
