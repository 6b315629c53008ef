import { SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';
import { rawJobs } from '../support/upstream';

/** Paging an engine's jobs through the gateway, over real HTTP, against the simulator. */

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

const PAGE = `
  query Page($engine: ID!, $first: Int, $after: String, $last: Int, $before: String, $filter: JobFilter) {
    engine(id: $engine) {
      jobs(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
        totalCount
        edges { cursor node { id } }
        nodes { id }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }`;

interface Page {
  totalCount: number;
  edges: Array<{ cursor: string; node: { id: string } }>;
  nodes: Array<{ id: string }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

async function page(variables: Record<string, unknown>): Promise<Page> {
  const response = await h.gql<{ engine: { jobs: Page } }>(PAGE, variables);
  expect(response.body.errors).toBeUndefined();
  return response.body.data!.engine.jobs;
}

const ids = (p: Page) => p.edges.map((edge) => edge.node.id);
const listJobCalls = () => h.simulator.callCount({ route: 'listJobs' });
const listJobQueries = () => h.simulator.calls.filter((call) => call.route === 'listJobs').map((call) => call.query);

describe('forward paging', () => {
  it('walks a several-hundred-job engine with first/after: every job once, in order, one list call per page', async () => {
    const engine = SEED.engines.big;
    const expected = (await rawJobs(h.simulator, engine)).map((job) => String(job.id));
    expect(expected.length).toBe(SEED.jobCounts[engine]);
    expect(expected.length).toBeGreaterThan(300);

    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      h.simulator.resetCalls();
      const p: Page = await page({ engine, first: 20, after });
      pages += 1;
      expect(listJobCalls()).toBe(1);
      expect(p.totalCount).toBe(expected.length);
      expect(p.nodes.map((n) => n.id)).toEqual(ids(p));
      expect(p.pageInfo.hasPreviousPage).toBe(after !== null);
      expect(p.pageInfo.startCursor).toBe(p.edges[0]?.cursor ?? null);
      expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)?.cursor ?? null);
      seen.push(...ids(p));
      expect(p.pageInfo.hasNextPage).toBe(seen.length < expected.length);
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 20));
    // Never more than the upstream's maximum page size on the wire.
    for (const query of listJobQueries()) expect(Number(query.limit)).toBeLessThanOrEqual(100);
  });

  it('fetches a misaligned window (items 15..34) with ONE call: limit=35 on the first page', async () => {
    const engine = SEED.engines.big;
    const expected = (await rawJobs(h.simulator, engine)).map((job) => String(job.id));
    const first15 = await page({ engine, first: 15 });
    h.simulator.resetCalls();

    const p = await page({ engine, first: 20, after: first15.pageInfo.endCursor });
    expect(ids(p)).toEqual(expected.slice(15, 35));
    expect(listJobQueries()).toEqual([
      expect.objectContaining({ offset: '1', limit: '35' }),
    ]);
  });

  it('answers the default page size (20) when neither first nor last is given', async () => {
    const p = await page({ engine: SEED.engines.onePagePlusOne });
    expect(p.edges).toHaveLength(20);
    expect(p.totalCount).toBe(21);
    expect(p.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
  });

  it.each([
    ['empty', 0],
    ['single', 1],
    ['onePage', 20],
    ['onePagePlusOne', 21],
  ] as const)('gets exact pageInfo on the %s engine (%i jobs) with first: 20', async (name, count) => {
    const p = await page({ engine: SEED.engines[name], first: 20 });
    expect(p.totalCount).toBe(count);
    expect(p.edges).toHaveLength(Math.min(20, count));
    expect(p.pageInfo.hasNextPage).toBe(count > 20);
    expect(p.pageInfo.hasPreviousPage).toBe(false);
    if (count === 0) expect(p.pageInfo).toMatchObject({ startCursor: null, endCursor: null });
  });

  it('answers first: 0 with an empty page but the true totalCount and flags', async () => {
    const p = await page({ engine: SEED.engines.onePage, first: 0 });
    expect(p).toMatchObject({ totalCount: 20, edges: [], pageInfo: { hasNextPage: true, hasPreviousPage: false } });
  });
});

describe('backward paging', () => {
  it('returns the items just before a cursor with last/before, with exact flags', async () => {
    const engine = SEED.engines.big;
    const expected = (await rawJobs(h.simulator, engine)).map((job) => String(job.id));
    const head = await page({ engine, first: 31 });
    h.simulator.resetCalls();

    const p = await page({ engine, last: 5, before: head.edges[30]!.cursor });
    expect(ids(p)).toEqual(expected.slice(25, 30));
    expect(p.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
    expect(listJobCalls()).toBe(1);
  });

  it('walks the whole list backwards from the end with last/before', async () => {
    const engine = SEED.engines.onePagePlusOne;
    const expected = (await rawJobs(h.simulator, engine)).map((job) => String(job.id));
    const seen: string[] = [];
    let before: string | null = null;
    for (;;) {
      const p: Page = await page({ engine, last: 6, before });
      seen.unshift(...ids(p));
      expect(p.pageInfo.hasNextPage).toBe(before !== null);
      expect(p.pageInfo.hasPreviousPage).toBe(seen.length < expected.length);
      if (!p.pageInfo.hasPreviousPage) break;
      before = p.pageInfo.startCursor;
    }
    expect(seen).toEqual(expected);
  });

  it('learns the total with at most one extra call for last without before', async () => {
    const engine = SEED.engines.big;
    const expected = (await rawJobs(h.simulator, engine)).map((job) => String(job.id));
    const p = await page({ engine, last: 10 });
    expect(ids(p)).toEqual(expected.slice(-10));
    expect(p.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect(listJobCalls()).toBeLessThanOrEqual(3);
  });
});

describe('jobs inserted while a user pages', () => {
  it.each([1, 20, 50])('returns every original job exactly once when %i jobs arrive between requests', async (arriving) => {
    const engine = SEED.engines.maxPage;
    const expected = (await rawJobs(h.simulator, engine)).map((job) => String(job.id));
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const p: Page = await page({ engine, first: 20, after });
      seen.push(...ids(p));
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
      h.simulator.addJobs(engine, arriving);
    }
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe('time filter', () => {
  it('sends from-time/to-time as epoch ms and pages within the range', async () => {
    const engine = SEED.engines.big;
    const all = await rawJobs(h.simulator, engine);
    const from = all[200]!.startTime!;
    const to = all[100]!.startTime!;
    const expected = all.filter((job) => job.startTime! >= from && job.startTime! <= to).map((job) => String(job.id));
    expect(expected).toHaveLength(101);

    const filter = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    const first = await page({ engine, first: 60, filter });
    expect(first.totalCount).toBe(101);
    expect(listJobQueries()[0]).toMatchObject({ 'from-time': String(from), 'to-time': String(to) });
    const second = await page({ engine, first: 60, after: first.pageInfo.endCursor, filter });
    expect([...ids(first), ...ids(second)]).toEqual(expected);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });

  it.each([
    ['epoch-s', (ms: number) => String(Math.floor(ms / 1000))],
    ['iso-8601', (ms: number) => new Date(ms).toISOString()],
  ])('writes the range as CSE_TIME_FORMAT=%s says', async (format, written) => {
    const other = await startHarness({ CSE_TIME_FORMAT: format });
    try {
      const [from, to] = [Date.UTC(2026, 0, 2, 3, 4, 5, 678), Date.UTC(2026, 11, 6, 18, 0, 0, 999)];
      const filter = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
      await other.gql(PAGE, { engine: SEED.engines.big, first: 5, filter });
      const [query] = other.simulator.calls.filter((call) => call.route === 'listJobs').map((call) => call.query);
      expect(query).toMatchObject({ 'from-time': written(from), 'to-time': written(to) });
    } finally {
      await other.close();
    }
  });

  it('refuses a cursor made under another filter, and a range that ends before it starts', async () => {
    const engine = SEED.engines.big;
    const p = await page({ engine, first: 5, filter: { from: '2000-01-01T00:00:00.000Z' } });
    h.simulator.resetCalls();
    const other = await h.gql(PAGE, { engine, first: 5, after: p.pageInfo.endCursor });
    expect(errorCodes(other)).toEqual(['BAD_USER_INPUT']);
    const reversed = await h.gql(PAGE, {
      engine,
      filter: { from: '2024-01-02T00:00:00.000Z', to: '2024-01-01T00:00:00.000Z' },
    });
    expect(errorCodes(reversed)).toEqual(['BAD_USER_INPUT']);
    const garbage = await h.gql(PAGE, { engine, filter: { from: 'yesterday' } });
    expect(errorCodes(garbage)).toEqual(['BAD_USER_INPUT']);
    expect(listJobCalls()).toBe(0);
  });
});

describe('bad arguments and cursors', () => {
  let cursorOfAnotherEngine: string;
  beforeAll(async () => {
    const p = await page({ engine: SEED.engines.onePage, first: 2 });
    cursorOfAnotherEngine = p.pageInfo.endCursor!;
  });

  it.each([
    ['a negative first', { first: -1 }],
    ['first above the maximum', { first: 101 }],
    ['a negative last', { last: -3 }],
    ['both first and last', { first: 5, last: 5 }],
    ['a malformed cursor', { first: 5, after: 'not-a-cursor' }],
    ['a base64 cursor of something else', { first: 5, after: Buffer.from('{"offset":10}').toString('base64url') }],
    ['a cursor from another engine', { first: 5, after: 'OTHER' }],
  ])('refuses %s with BAD_USER_INPUT and no list call', async (_name, args) => {
    const variables: Record<string, unknown> = { engine: SEED.engines.big, ...args };
    if (variables.after === 'OTHER') variables.after = cursorOfAnotherEngine;
    h.simulator.resetCalls();
    const response = await h.gql(PAGE, variables);
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.errors![0]!.path).toEqual(['engine', 'jobs']);
    expect(listJobCalls()).toBe(0);
  });

  it('refuses bad engine-list arguments before any upstream call at all', async () => {
    const response = await h.gql('{ engines(first: 3, after: "bogus") { totalCount } }');
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(h.simulator.calls).toHaveLength(0);
  });
});
