import { request } from 'undici';
import { DEMO_PROJECT_ID, DEMO_TOKEN, OTHER_TOKEN, SECOND_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';

/**
 * The whole-response cache in front of Apollo: the same caller polling the same query is answered
 * without execution or upstream calls, per credential scope only, never for errors or "not
 * found", with the same Cache-Control header (plus `age`), and still with its own request id,
 * CORS headers, log line and metrics.
 */

const PAGE = `query ($id: ID!) { engine(id: $id) { jobs(first: 20) { edges { cursor node { id status } } totalCount } } }`;

/** The per-operation log lines written so far. */
function operationLines(h: Harness): Array<{ requestId: string; outcome: string; upstreamCalls?: number; cacheHits?: number }> {
  return h.logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'graphql operation');
}

describe('with the default caches', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ LOG_LEVEL: 'info', CORS_ORIGINS: 'https://app.example.com' });
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
    // The second operation did not even reach Apollo, nor the upstream cache: its line is a short one.
    const [ran, cached] = operationLines(h);
    expect(ran).toMatchObject({ upstreamCalls: 1, cacheHits: 0, outcome: 'success' });
    expect(cached).toMatchObject({ requestId: second.headers['x-request-id'], operationName: null, outcome: 'cached', httpStatus: 200 });
    expect(Object.keys(cached!).sort()).toEqual(['durationMs', 'httpStatus', 'level', 'msg', 'operationName', 'outcome', 'requestId', 'service', 'time']);
    expect(first.headers['cache-control']).toBe('max-age=2, private');
    expect(second.headers['cache-control']).toBe('max-age=2, private');
    expect(first.headers.age).toBeUndefined();
    expect(second.headers.age).toMatch(/^\d+$/);
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
  });

  it('gives a hit its own request id and CORS headers, and counts it under its operation name', async () => {
    const named = `query HotPage($id: ID!) { engine(id: $id) { jobs(first: 3) { totalCount } } }`;
    const headers = { origin: 'https://app.example.com', 'x-request-id': 'poll-1' };
    const first = await h.gql(named, { id: SEED.engines.big }, headers);
    const second = await h.gql(named, { id: SEED.engines.big }, { ...headers, 'x-request-id': 'poll-2' });
    expect(second.headers.age).toMatch(/^\d+$/);
    expect([first.headers['x-request-id'], second.headers['x-request-id']]).toEqual(['poll-1', 'poll-2']);
    expect(second.headers['access-control-allow-origin']).toBe('https://app.example.com');
    // Its id, CORS and age are written in one block with the stored answer's own: the headers of the answer it reuses.
    const names = (response: typeof first) => Object.keys(response.headers).filter((name) => name !== 'age').sort();
    expect(names(second)).toEqual(names(first));
    expect(second.headers['content-length']).toBe(String(Buffer.byteLength(second.text)));
    expect(operationLines(h).map((line) => [line.requestId, line.outcome])).toEqual([
      ['poll-1', 'success'],
      ['poll-2', 'cached'],
    ]);
    const metrics = await (await request(new URL('/metrics', h.gateway.url))).body.text();
    expect(metrics).toMatch(/^gateway_operations_total\{operation="HotPage",outcome="cached"\} 1$/m);
    expect(metrics).toMatch(/^gateway_response_cache_hits_total \d+$/m);
    expect(metrics).toMatch(/^gateway_response_cache_misses_total \d+$/m);
  });

  it('counts hits and misses', async () => {
    const count = async (name: string) => {
      const text = await (await request(new URL('/metrics', h.gateway.url))).body.text();
      return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
    };
    const [hits, misses] = [await count('gateway_response_cache_hits_total'), await count('gateway_response_cache_misses_total')];
    const query = `query ($id: ID!) { engine(id: $id) { jobs(first: 4) { totalCount } } }`;
    await h.gql(query, { id: SEED.engines.big });
    await h.gql(query, { id: SEED.engines.big });
    await h.gql(query, { id: SEED.engines.big });
    expect([await count('gateway_response_cache_hits_total'), await count('gateway_response_cache_misses_total')]).toEqual([hits + 2, misses + 1]);
  });

  it('caches GET requests by their query string', async () => {
    const get = async (id: string) => {
      // Not PAGE: its upstream pages may already be in the upstream cache from the tests above.
      const query = PAGE.replace('first: 20', 'first: 7');
      const search = new URLSearchParams({ query, variables: JSON.stringify({ id }) });
      const response = await request(`${h.gateway.url}?${search}`, {
        headers: { 'x-auth-token': DEMO_TOKEN, 'apollo-require-preflight': 'true' },
      });
      return { status: response.statusCode, age: response.headers.age, body: await response.body.json() };
    };
    const first = await get(SEED.engines.single);
    expect(first.status).toBe(200);
    expect(first.age).toBeUndefined();
    const again = await get(SEED.engines.single);
    expect(again.age).toMatch(/^\d+$/);
    expect(again.body).toEqual(first.body);
    expect((await get(SEED.engines.maxPage)).age).toBeUndefined();
    expect(h.simulator.callCount({ route: 'listJobs' })).toBe(2);
  });

  it('never serves a hit to a request without a usable token', async () => {
    await h.gql(PAGE, { id: SEED.engines.big });
    const anonymous = await h.gql(PAGE, { id: SEED.engines.big }, { 'x-auth-token': undefined });
    expect(errorCodes(anonymous)).toEqual(['UNAUTHENTICATED']);
    expect(anonymous.headers.age).toBeUndefined();
    const malformed = await h.gql(PAGE, { id: SEED.engines.big }, { 'x-project-id': 'bad project!' });
    expect(errorCodes(malformed)).toEqual(['BAD_USER_INPUT']);
    expect(malformed.headers.age).toBeUndefined();
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

  it('keeps a result built from upstream cache entries only for what the shortest-lived of them had left', async () => {
    const id = SEED.engines.drift;
    const withName = `query ($id: ID!) { engine(id: $id) { name jobs(first: 2) { totalCount } } }`;
    await h.gql(`query ($id: ID!) { engine(id: $id) { name } }`, { id });
    await h.gql(withName, { id }); // engine details from the upstream cache
    const third = await h.gql(withName, { id });
    expect(third.headers.age).toBeDefined();
    expect(operationLines(h).map((line) => line.cacheHits)).toEqual([0, 1, undefined]);
  });
});

describe('with short TTLs', () => {
  // Long enough that the steps before the expiry stay within the engine entry's life on a busy machine.
  const TTL_MS = 3000;
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ LOG_LEVEL: 'info', CACHE_ENGINE_TTL_MS: String(TTL_MS), CACHE_LIST_TTL_MS: String(TTL_MS) });
  });
  afterAll(() => h.close());

  it('does not keep a result built from an upstream cache entry past that entry\'s own expiry', async () => {
    const id = SEED.engines.drift;
    const withName = `query ($id: ID!) { engine(id: $id) { name jobs(first: 2) { totalCount } } }`;
    await h.gql(`query ($id: ID!) { engine(id: $id) { name } }`, { id });
    // The engine entry was stored before its answer reached us: it expires by stored + TTL_MS.
    const stored = Date.now();
    await new Promise((resolve) => setTimeout(resolve, TTL_MS / 2));
    // The engine from the upstream cache (half its TTL left), the page from the upstream.
    await h.gql(withName, { id });
    expect((await h.gql(withName, { id })).headers.age).toBeDefined();
    expect(h.simulator.callCount({ route: 'getEngine', engineId: id })).toBe(1);
    // Past the engine entry's expiry, though within a full max-age of when the result was stored.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, stored + TTL_MS + 100 - Date.now())));
    const late = await h.gql(withName, { id });
    expect(late.headers.age).toBeUndefined();
    expect(h.simulator.callCount({ route: 'getEngine', engineId: id })).toBe(2);
  });
});

it('stays within OPERATION_CACHE_MAX_BYTES: a result larger than the bound is never stored', async () => {
  const h = await startHarness({ OPERATION_CACHE_MAX_BYTES: '1024', LOG_LEVEL: 'info' });
  try {
    const big = await h.gql(PAGE, { id: SEED.engines.big });
    expect(big.text.length).toBeGreaterThan(1024);
    expect((await h.gql(PAGE, { id: SEED.engines.big })).headers.age).toBeUndefined();
    // The second ran (answered by the upstream cache), it was not served whole.
    expect(operationLines(h).map((line) => [line.outcome, line.cacheHits])).toEqual([
      ['success', 0],
      ['success', 1],
    ]);
  } finally {
    await h.close();
  }
});

it('is off when every TTL is 0', async () => {
  const h = await startHarness(CACHES_OFF);
  try {
    await h.gql(PAGE, { id: SEED.engines.big });
    const second = await h.gql(PAGE, { id: SEED.engines.big });
    expect(second.headers.age).toBeUndefined();
    expect(h.simulator.callCount({ route: 'listJobs' })).toBe(2);
  } finally {
    await h.close();
  }
});

describe('one caller flooding the cache', () => {
  const CACHE_BYTES = 256 * 1024;
  let h: Harness;
  beforeAll(async () => {
    const ttl = '60000';
    h = await startHarness({ OPERATION_CACHE_MAX_BYTES: String(CACHE_BYTES), CACHE_LIST_TTL_MS: ttl, CACHE_ENGINE_TTL_MS: ttl });
  });
  afterAll(() => h.close());

  it("pushes out only its own answers past a quarter of OPERATION_CACHE_MAX_BYTES: another caller's stay", async () => {
    const query = `query ($id: ID!) { engine(id: $id) { jobs(first: 3) { totalCount } } }`;
    const variables = { id: SEED.engines.big };
    await h.gql(query, variables);
    expect((await h.gql(query, variables)).headers.age).toMatch(/^\d+$/);
    // Distinct answers of 12 KiB keys, each stored and promoted by a second request: twice the cache.
    const flooder = { 'x-auth-token': SECOND_TOKEN };
    for (let i = 0; i < 40; i += 1) {
      const padded = `${query} #${' '.repeat(12 * 1024)}${i}`;
      await h.gql(padded, variables, flooder);
      expect((await h.gql(padded, variables, flooder)).headers.age).toMatch(/^\d+$/);
    }
    h.simulator.reset();
    const after = await h.gql(query, variables);
    expect(after.headers.age).toMatch(/^\d+$/);
    expect(h.simulator.calls).toHaveLength(0);
    // The flooder keeps its newest answers, within its share.
    const newest = `${query} #${' '.repeat(12 * 1024)}39`;
    expect((await h.gql(newest, variables, flooder)).headers.age).toMatch(/^\d+$/);
  });
});
