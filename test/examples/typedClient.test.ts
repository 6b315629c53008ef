import { CombinedGraphQLErrors, InMemoryCache, type ApolloClient, type NormalizedCacheObject, type StoreObject } from '@apollo/client';
import { createCache } from '../../examples/typed-client/cache';
import { createGatewayClient } from '../../examples/typed-client/client';
import type { JobListItemFragment, JobStatus } from '../../examples/typed-client/gql/graphql';
import { DEFAULT_GATEWAY_URL, DEMO_TOKEN as EXAMPLE_DEMO_TOKEN, describeError, printEngineJobs, readSettings } from '../../examples/typed-client/main';
import { EngineJobsPage, JobDetails, JobListItem } from '../../examples/typed-client/operations';
import { pageEngineJobs } from '../../examples/typed-client/pageEngineJobs';
import { DEMO_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';
import { rawJobs } from '../support/upstream';

/**
 * The example client (examples/typed-client) as a frontend would use it: Apollo Client over real
 * HTTP to the gateway, the gateway against the simulator. What is asserted is what the example
 * promises: every job once and in order, one request per page, the cache's keys and merging.
 */

let h: Harness;
let client: ApolloClient;

beforeAll(async () => {
  // Counts upstream calls per page: the gateway's response caches would answer repeats.
  h = await startHarness(CACHES_OFF);
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.simulator.reset();
  client = createGatewayClient({ url: h.gateway.url, token: DEMO_TOKEN });
});
afterEach(() => {
  client.stop();
});

const big = SEED.engines.big;
const PAGE_SIZE = 40;

/** The client's normalised store: entity key → stored fields. */
function store(c: ApolloClient = client): NormalizedCacheObject {
  expect(c.cache).toBeInstanceOf(InMemoryCache);
  return (c.cache as InMemoryCache).extract();
}

/** The stored fields of one entity, which must exist. */
function entity(key: string | undefined, c: ApolloClient = client): StoreObject {
  expect(key).toBeDefined();
  const stored = store(c)[key!];
  expect(stored).toBeDefined();
  return stored!;
}

/** The Engine entry's stored `jobs` fields: one per distinct list (the paging arguments excluded). */
function storedJobLists(engineId: string): Array<[string, { edges: unknown[] }]> {
  const engine = entity(client.cache.identify({ __typename: 'Engine', id: engineId }));
  // Stored as `jobs:{}` for the full list and `jobs:{"filter":…}` for a filtered one.
  return Object.entries(engine).filter(([name]) => /^jobs\b/.test(name)) as Array<[string, { edges: unknown[] }]>;
}

describe('pageEngineJobs: paging an engine with fetchMore', () => {
  it('walks the 350-job engine 40 at a time: every job once, in the gateway order, one upstream list call per page', async () => {
    const expected = (await rawJobs(h.simulator, big)).map((job) => String(job.id));
    expect(expected).toHaveLength(SEED.jobCounts[big]!);
    expect(expected).toHaveLength(350);
    expect(new Set(expected).size).toBe(expected.length);

    const heldAfterEachPage: number[] = [];
    const result = await pageEngineJobs(client, big, { pageSize: PAGE_SIZE, onPage: (page) => heldAfterEachPage.push(page.jobs) });

    expect(result).not.toBeNull();
    expect(result!.jobs.map((job) => job.id)).toEqual(expected);
    expect(result!.jobs.every((job) => job.engineId === big)).toBe(true);
    expect(result!.totalCount).toBe(350);
    // ⌈350 / 40⌉ = 9 requests: the first page, then 8 fetchMore calls.
    expect(result!.pages).toBe(9);
    expect(result!.fetchMoreCalls).toBe(8);
    // The cache's list grows by one page per request: fetchMore results are merged, not replaced.
    expect(heldAfterEachPage).toEqual([40, 80, 120, 160, 200, 240, 280, 320, 350]);
    // The gateway reads each window together with the cursor's own job (to notice jobs added in
    // the meantime): 41 jobs from position 40k − 1. At this page size every such window lies on
    // one upstream page (jobs 79..119 are page 2 of size 60), so each GraphQL page costs one list
    // call, and nothing else: the query selects no engine field that needs the engine's details.
    expect(h.simulator.callCount({ route: 'listJobs' })).toBe(9);
    expect(h.simulator.callCount()).toBe(9);
  });

  it('stores every Job under its engineId + id key, and the pages as one list of the engine', async () => {
    const result = await pageEngineJobs(client, big, { pageSize: PAGE_SIZE });
    const jobs = result!.jobs;
    const stored = store();

    for (const job of jobs) {
      const key = client.cache.identify({ __typename: 'Job', engineId: big, id: job.id });
      expect(key).toBe(`Job:${JSON.stringify({ engineId: big, id: job.id })}`);
      // The objects the client hands out identify as the same entry.
      expect(client.cache.identify(job)).toBe(key);
      expect(stored[key!]).toEqual({ ...job, __typename: 'Job' });
    }
    const jobKeys = Object.keys(stored).filter((key) => key.startsWith('Job:'));
    expect(jobKeys).toHaveLength(350);
    expect(stored[`Job:${jobs[0]!.id}`]).toBeUndefined();

    // Nine pages, one stored connection holding all 350 edges.
    const lists = storedJobLists(big);
    expect(lists).toHaveLength(1);
    expect(lists[0]![1].edges).toHaveLength(350);
  });

  it('replaces the stored list when walking again, never doubling it', async () => {
    const first = await pageEngineJobs(client, big, { pageSize: PAGE_SIZE });
    h.simulator.resetCalls();

    const heldAfterEachPage: number[] = [];
    const again = await pageEngineJobs(client, big, { pageSize: PAGE_SIZE, onPage: (page) => heldAfterEachPage.push(page.jobs) });

    // The first page (no `after`) replaced the 350 stored jobs; the rest were appended again.
    expect(heldAfterEachPage).toEqual([40, 80, 120, 160, 200, 240, 280, 320, 350]);
    expect(again!.jobs).toEqual(first!.jobs);
    // The walk starts from the network (fetchPolicy network-only), not from the cached list.
    expect(h.simulator.callCount({ route: 'listJobs' })).toBe(9);
    expect(storedJobLists(big)[0]![1].edges).toHaveLength(350);
  });

  it('keeps a time-filtered list apart from the full one (filter is part of the key)', async () => {
    const all = (await pageEngineJobs(client, big, { pageSize: 100 }))!.jobs;
    // Newest first: jobs 50..100 of the list started between these two instants.
    const from = all[100]!.startTime!;
    const to = all[50]!.startTime!;
    const inRange = all.filter((job) => job.startTime !== null && job.startTime >= from && job.startTime <= to).map((job) => job.id);
    expect(inRange).toHaveLength(51);

    const filtered = await pageEngineJobs(client, big, { pageSize: 20, filter: { from, to } });

    expect(filtered!.jobs.map((job) => job.id)).toEqual(inRange);
    expect(filtered!.totalCount).toBe(51);
    expect(filtered!.pages).toBe(3);
    const lists = storedJobLists(big);
    expect(lists.map(([, list]) => list.edges.length).sort((a, b) => a - b)).toEqual([51, 350]);
    // The full list is still whole in the cache.
    const full = client.readQuery({ query: EngineJobsPage, variables: { engineId: big, first: 100 } });
    expect(full!.engine!.jobs.edges).toHaveLength(350);
  });

  it('answers null for an engine that does not exist', async () => {
    await expect(pageEngineJobs(client, SEED.engines.gone, { pageSize: PAGE_SIZE })).resolves.toBeNull();
  });

  it('rejects with the gateway error codes when the token is refused', async () => {
    const stranger = createGatewayClient({ url: h.gateway.url, token: 'cse-unknown-token-00000000000009' });
    try {
      const failure = await pageEngineJobs(stranger, big, { pageSize: PAGE_SIZE }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(CombinedGraphQLErrors.is(failure)).toBe(true);
      const codes = (failure as CombinedGraphQLErrors).errors.map((error) => error.extensions?.code);
      expect(codes).toEqual(['UNAUTHENTICATED']);
      expect(describeError(failure)).toMatch(/^the gateway answered with errors: UNAUTHENTICATED: /);
    } finally {
      stranger.stop();
    }
  });

  it.each([0, -1, 2.5, Number.NaN])('refuses page size %p before any request', async (pageSize) => {
    await expect(pageEngineJobs(client, big, { pageSize })).rejects.toThrow(RangeError);
    expect(h.simulator.callCount()).toBe(0);
  });
});

describe('the cache policies', () => {
  const job = (engineId: string, status: JobStatus): JobListItemFragment => ({
    __typename: 'Job',
    engineId,
    id: '10001',
    type: 'CONFIGURE',
    status,
    startTime: '2023-11-14T22:13:20.000Z',
    durationMs: 31000,
  });

  it('keeps two jobs with the same id on different engines apart', () => {
    // The seed's job ids happen to be unique across engines; the upstream promises no such thing.
    const cache = createCache();
    cache.writeFragment({ fragment: JobListItem, data: job(big, 'FINISHED') });
    cache.writeFragment({ fragment: JobListItem, data: job(SEED.engines.drift, 'ERROR') });

    const onBig = cache.identify({ __typename: 'Job', engineId: big, id: '10001' });
    const onDrift = cache.identify({ __typename: 'Job', engineId: SEED.engines.drift, id: '10001' });
    expect(onBig).not.toBe(onDrift);
    expect(cache.readFragment({ fragment: JobListItem, id: onBig })?.status).toBe('FINISHED');
    expect(cache.readFragment({ fragment: JobListItem, id: onDrift })?.status).toBe('ERROR');
    expect(Object.keys(cache.extract()).filter((key) => key.startsWith('Job:'))).toHaveLength(2);
  });

  it('is why Job needs its policy: keyed by id alone, the second engine overwrites the first', () => {
    const naive = new InMemoryCache();
    naive.writeFragment({ fragment: JobListItem, data: job(big, 'FINISHED') });
    naive.writeFragment({ fragment: JobListItem, data: job(SEED.engines.drift, 'ERROR') });

    expect(Object.keys(naive.extract()).filter((key) => key.startsWith('Job:'))).toEqual(['Job:10001']);
    expect(naive.readFragment({ fragment: JobListItem, id: 'Job:10001' })).toMatchObject({ engineId: SEED.engines.drift, status: 'ERROR' });
  });

  it('refuses to store a Job without its engineId rather than guess its key', () => {
    const cache = createCache();
    const { engineId: _dropped, ...withoutEngine } = job(big, 'FINISHED');
    expect(() => cache.writeFragment({ fragment: JobListItem, data: withoutEngine as JobListItemFragment })).toThrow(/engineId/);
  });

  it('stores tasks inside their job, not as entities of their own', async () => {
    const newest = (await rawJobs(h.simulator, big))[0]!;
    const { data } = await client.query({ query: JobDetails, variables: { engineId: big, id: String(newest.id) }, errorPolicy: 'none' });
    const tasks = data.job!.tasks;
    expect(tasks.length).toBeGreaterThan(0);

    const stored = store();
    expect(Object.keys(stored).filter((key) => key.startsWith('Task'))).toEqual([]);
    const jobEntry = entity(client.cache.identify({ __typename: 'Job', engineId: big, id: String(newest.id) }));
    expect(jobEntry.tasks).toEqual(tasks);
  });
});

describe('the script (main.ts)', () => {
  it('defaults to the demo token the gateway prints, and to npm start’s URL', () => {
    expect(EXAMPLE_DEMO_TOKEN).toBe(DEMO_TOKEN);
    expect(readSettings({})).toEqual({ url: DEFAULT_GATEWAY_URL, token: DEMO_TOKEN, engineId: undefined, pageSize: 50 });
    expect(readSettings({ GATEWAY_URL: 'https://gw.example.com/graphql', CSE_TOKEN: 't', ENGINE_ID: 'e', PAGE_SIZE: '7' })).toEqual({
      url: 'https://gw.example.com/graphql',
      token: 't',
      engineId: 'e',
      pageSize: 7,
    });
  });

  it.each([
    [{ GATEWAY_URL: 'localhost:4000' }, /GATEWAY_URL must be an http\(s\) URL .*"localhost:4000"/],
    [{ GATEWAY_URL: 'ftp://host/graphql' }, /GATEWAY_URL/],
    [{ PAGE_SIZE: '0' }, /PAGE_SIZE must be an integer from 1 to 100, got "0"/],
    [{ PAGE_SIZE: '101' }, /PAGE_SIZE/],
    [{ PAGE_SIZE: 'ten' }, /PAGE_SIZE/],
  ])('refuses %p, naming the setting and the value', (env, message) => {
    expect(() => readSettings(env)).toThrow(message);
  });

  it('picks the engine with the most jobs and prints all of them, then the newest job’s tasks', async () => {
    const expected = (await rawJobs(h.simulator, big)).map((job) => String(job.id));
    const lines: string[] = [];

    const shown = await printEngineJobs(client, readSettings({ GATEWAY_URL: h.gateway.url, PAGE_SIZE: String(PAGE_SIZE) }), (line) => lines.push(line));

    expect(shown).toBe(true);
    expect(lines).toContain(`Jobs of big-engine (${big}), newest first:`);
    const jobLines = lines.filter((line) => /^ {2} *\d+ {2}[A-Z_]+/.test(line));
    expect(jobLines.map((line) => line.trim().split(/\s+/)[0])).toEqual(expected);
    expect(lines).toContain('350 of 350 jobs in 9 pages of up to 40 (8 fetchMore calls).');
    expect(lines).toContain(`Tasks of job ${expected[0]}:`);
  });

  it('says so when the engine does not exist', async () => {
    const lines: string[] = [];
    const settings = readSettings({ GATEWAY_URL: h.gateway.url, ENGINE_ID: SEED.engines.gone });
    await expect(printEngineJobs(client, settings, (line) => lines.push(line))).resolves.toBe(false);
    expect(lines).toEqual([`No engine ${SEED.engines.gone} (or the token's project cannot see it).`]);
  });
});
