import { DEMO_PROJECT_ID, DEMO_TOKEN, OTHER_TOKEN, SECOND_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';
import { rawJobs } from '../support/upstream';

/**
 * Cross-request coalescing and the response cache, through real HTTP: identical concurrent calls
 * made once, answers never shared across tokens, TTLs by kind, errors never cached, honest
 * Cache-Control headers, and the byte bound.
 */

const ENGINE = `query ($id: ID!) { engine(id: $id) { id name } }`;
const JOB = `query ($engine: ID!, $id: ID!) { job(engineId: $engine, id: $id) { id status } }`;
const A = SEED.engines.big;

describe('with the default caches', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  // A fresh harness state per test: the cache survives simulator.reset(), so each test uses its
  // own engines or tokens where it counts calls, or restarts the harness.
  beforeEach(() => h.simulator.reset());

  it('makes 50 concurrent identical queries with at most 2 upstream calls', async () => {
    h.simulator.injectFault({ route: 'getEngine', engineId: A, latencyMs: 100 });
    const responses = await Promise.all(Array.from({ length: 50 }, () => h.gql(ENGINE, { id: A })));
    for (const response of responses) expect(response.body.data.engine.id).toBe(A);
    expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBeLessThanOrEqual(2);
    // And the next one is a cache hit.
    await h.gql(ENGINE, { id: A });
    expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBeLessThanOrEqual(2);
  });

  it('never shares between two tokens of one project, and refuses a token of another project instead of serving it from cache', async () => {
    const id = SEED.engines.onePage;
    h.simulator.injectFault({ route: 'getEngine', engineId: id, latencyMs: 100 });
    const [demo, second, other] = await Promise.all([
      h.gql(ENGINE, { id }),
      h.gql(ENGINE, { id }, { 'x-auth-token': SECOND_TOKEN }),
      h.gql(ENGINE, { id }, { 'x-auth-token': OTHER_TOKEN, 'x-project-id': DEMO_PROJECT_ID }),
    ]);
    expect(demo.body.data.engine.id).toBe(id);
    expect(second.body.data.engine.id).toBe(id);
    expect(errorCodes(other)).toEqual(['FORBIDDEN']);
    expect(other.body.data.engine).toBeNull();
    const tokens = h.simulator.calls.filter((c) => c.engineId === id).map((c) => c.headers['x-auth-token']);
    expect(tokens.sort()).toEqual([DEMO_TOKEN, SECOND_TOKEN, OTHER_TOKEN].sort());

    // Later, with the first two answers cached: the third token still reaches the upstream.
    h.simulator.resetCalls();
    const again = await h.gql(ENGINE, { id }, { 'x-auth-token': OTHER_TOKEN, 'x-project-id': DEMO_PROJECT_ID });
    expect(errorCodes(again)).toEqual(['FORBIDDEN']);
    expect(h.simulator.callCount({ engineId: id })).toBe(1);
    await h.gql(ENGINE, { id }, { 'x-auth-token': SECOND_TOKEN });
    expect(h.simulator.callCount({ engineId: id })).toBe(1);
  });

  it('never caches errors or not-found answers', async () => {
    const id = SEED.engines.onePagePlusOne;
    h.simulator.injectFault({ route: 'getEngine', engineId: id, status: 500, dialect: 'cse', times: 3 });
    expect(errorCodes(await h.gql(ENGINE, { id }))).toEqual(['UPSTREAM_ERROR']);
    const recovered = await h.gql(ENGINE, { id });
    expect(recovered.body.data.engine.id).toBe(id);
    expect(h.simulator.callCount({ engineId: id })).toBe(4);

    h.simulator.resetCalls();
    const missing = 'f0000000-0000-4000-8000-000000000001';
    expect((await h.gql(ENGINE, { id: missing })).body.data.engine).toBeNull();
    expect((await h.gql(ENGINE, { id: missing })).body.data.engine).toBeNull();
    expect(h.simulator.callCount({ engineId: missing })).toBe(2);
  });

  it.each([
    ['an engine', `{ engine(id: "${SEED.engines.single}") { id name } }`, 'max-age=10, private'],
    ['the engine list', '{ engines(first: 2) { nodes { id } } }', 'max-age=2, private'],
    ['an engine with its jobs (the shortest TTL wins)', `{ engine(id: "${SEED.engines.single}") { id jobs(first: 1) { nodes { id } } } }`, 'max-age=2, private'],
  ])('sends Cache-Control for %s from the shortest TTL involved, always private', async (_name, query, header) => {
    const response = await h.gql(query);
    expect(response.body.errors).toBeUndefined();
    expect(response.headers['cache-control']).toBe(header);
  });

  it('never sends public, whatever the operation', async () => {
    for (const query of ['{ __typename }', '{ engines(first: 1) { __typename } }', `{ job(engineId: "${A}", id: "10001") { id } }`]) {
      const response = await h.gql(query);
      expect(response.headers['cache-control']).not.toMatch(/public/);
    }
  });

  it('sends no-store for a response with errors', async () => {
    h.simulator.injectFault({ route: 'getEngine', engineId: SEED.engines.maxPage, status: 403, dialect: 'cse' });
    const response = await h.gql(ENGINE, { id: SEED.engines.maxPage });
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    expect(response.headers['cache-control']).toBe('no-store');
  });
});

describe('TTLs by kind', () => {
  let h: Harness;
  let finished: string;
  let running: string;
  beforeAll(async () => {
    h = await startHarness({ CACHE_JOB_TTL_MS: '150', CACHE_ENGINE_TTL_MS: '0' });
    const jobs = await rawJobs(h.simulator, A);
    finished = String(jobs.find((job) => job.status === 'Finished')!.id);
    running = String(jobs.find((job) => job.status === 'Executing')!.id);
  });
  afterAll(() => h.close());
  beforeEach(() => h.simulator.reset());

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('keeps a job in a terminal status for CACHE_TERMINAL_JOB_TTL_MS and says so in Cache-Control', async () => {
    const first = await h.gql(JOB, { engine: A, id: finished });
    expect(first.body.data.job.status).toBe('FINISHED');
    expect(first.headers['cache-control']).toBe('max-age=600, private');
    await sleep(250);
    await h.gql(JOB, { engine: A, id: finished });
    expect(h.simulator.callCount({ route: 'getJob', jobId: finished })).toBe(1);
  });

  it('keeps a running job only for CACHE_JOB_TTL_MS', async () => {
    const first = await h.gql(JOB, { engine: A, id: running });
    expect(first.body.data.job.status).toBe('EXECUTING');
    // 150 ms rounds down to 0 s: the header never promises more than the cache keeps.
    expect(first.headers['cache-control']).toBe('no-store');
    await h.gql(JOB, { engine: A, id: running });
    expect(h.simulator.callCount({ route: 'getJob', jobId: running })).toBe(1);
    await sleep(250);
    await h.gql(JOB, { engine: A, id: running });
    expect(h.simulator.callCount({ route: 'getJob', jobId: running })).toBe(2);
  });

  it('does not cache what a TTL of 0 disables', async () => {
    await h.gql(ENGINE, { id: A });
    await h.gql(ENGINE, { id: A });
    expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBe(2);
  });
});

describe('single flight alone (caches off)', () => {
  it('still makes 50 concurrent identical queries with at most 2 upstream calls', async () => {
    const h = await startHarness(CACHES_OFF);
    try {
      h.simulator.injectFault({ route: 'getEngine', engineId: A, latencyMs: 100 });
      const responses = await Promise.all(Array.from({ length: 50 }, () => h.gql(ENGINE, { id: A })));
      for (const response of responses) expect(response.body.data.engine.id).toBe(A);
      expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBeLessThanOrEqual(2);
      // Once settled, nothing is kept.
      await h.gql(ENGINE, { id: A });
      expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBeLessThanOrEqual(3);
    } finally {
      await h.close();
    }
  });
});

describe('the byte bound', () => {
  it('stays within CACHE_MAX_BYTES under 2,000 distinct keys, many times what it holds', async () => {
    const maxBytes = 64 * 1024;
    const h = await startHarness({ CACHE_MAX_BYTES: String(maxBytes), CACHE_MAX_ENTRIES: '100000', CSE_REQUEST_CONCURRENCY: '32' });
    try {
      // Every alias asks for a different time window: a distinct upstream URL, a distinct key.
      // (At most 30 aliases per operation: the gateway's own request limits.)
      const aliases = 25;
      const operations = 80;
      let peak = 0;
      for (let op = 0; op < operations; op += 1) {
        const fields = Array.from({ length: aliases }, (_, i) => {
          const from = new Date(1_600_000_000_000 + (op * aliases + i) * 1000).toISOString();
          return `j${i}: jobs(first: 1, filter: { from: "${from}" }) { totalCount }`;
        });
        const response = await h.gql(`{ engine(id: "${A}") { ${fields.join(' ')} } }`);
        expect(response.body.errors).toBeUndefined();
        peak = Math.max(peak, h.gateway.upstreamCacheStats().bytes);
      }
      expect(h.simulator.callCount({ route: 'listJobs' })).toBe(operations * aliases);
      const stats = h.gateway.upstreamCacheStats();
      expect(peak).toBeLessThanOrEqual(maxBytes);
      expect(stats.bytes).toBeGreaterThan(maxBytes / 2);
      // Filled many times over: it keeps fewer than a fifth of the keys.
      expect(stats.entries).toBeLessThan((operations * aliases) / 5);
    } finally {
      await h.close();
    }
  }, 60_000);

  it("keeps another caller's answers while one caller floods it past its share", async () => {
    const h = await startHarness({ CACHE_MAX_ENTRIES: '40', CSE_REQUEST_CONCURRENCY: '32' });
    try {
      const secondCalls = () => h.simulator.calls.filter((call) => call.headers['x-auth-token'] === SECOND_TOKEN).length;
      const windows = (op: number, count: number) => Array.from({ length: count }, (_, i) => {
        const from = new Date(1_600_000_000_000 + (op * count + i) * 1000).toISOString();
        return `j${i}: jobs(first: 1, filter: { from: "${from}" }) { totalCount }`;
      });
      // The second token's five answers (an eighth of the entries), then the demo token's 100.
      const mine = `{ engine(id: "${A}") { ${windows(1000, 5).join(' ')} } }`;
      expect((await h.gql(mine, undefined, { 'x-auth-token': SECOND_TOKEN })).body.errors).toBeUndefined();
      const before = secondCalls();
      for (let op = 0; op < 4; op += 1) {
        const response = await h.gql(`{ engine(id: "${A}") { ${windows(op, 25).join(' ')} } }`);
        expect(response.body.errors).toBeUndefined();
      }
      expect(h.gateway.upstreamCacheStats().entries).toBe(40);
      // Not the whole-response cache's answer: another document over the same five upstream answers.
      const again = await h.gql(`{ engine(id: "${A}") { id ${windows(1000, 5).join(' ')} } }`, undefined, { 'x-auth-token': SECOND_TOKEN });
      expect(again.body.errors).toBeUndefined();
      expect(secondCalls()).toBe(before);
    } finally {
      await h.close();
    }
  });
});
