import { SECOND_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { MAX_RETRY_AFTER_S } from '../../src/upstream/errorMapping';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';

/**
 * Upstream resilience through real HTTP against the simulator's fault injection: retries,
 * Retry-After, timeouts and the operation deadline, circuit breakers, load shedding. Caches are
 * off throughout so that every operation reaches the upstream and call counts mean "attempts".
 */

const ENGINE = `query ($id: ID!) { engine(id: $id) { id name } }`;
const TWO_ENGINES = `query ($a: ID!, $b: ID!) { a: engine(id: $a) { id name } b: engine(id: $b) { id name } }`;
const A = SEED.engines.big;
const B = SEED.engines.single;

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await run();
  return { result, ms: performance.now() - started };
}

describe('retries', () => {
  let h: Harness;
  beforeAll(async () => {
    // Breakers out of the way, and no memory of a 401: these tests fail the same engine many times
    // on purpose, with the demo token.
    h = await startHarness({ ...CACHES_OFF, REQUEST_TIMEOUT_MS: '3000', CSE_BREAKER_FAILURES: '10000', CSE_UPSTREAM_BREAKER_FAILURES: '10000', CSE_AUTH_REJECTION_TTL_MS: '0' });
  });
  afterAll(() => h.close());
  beforeEach(() => h.simulator.reset());

  it('retries a transient 500 to success with exactly one retry', async () => {
    h.simulator.injectFault({ route: 'getEngine', engineId: A, status: 500, dialect: 'cse', times: 1 });
    const response = await h.gql(ENGINE, { id: A });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.engine.id).toBe(A);
    expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBe(2);
  });

  it.each([
    ['502 HTML from a proxy', { status: 502, dialect: 'html' }],
    ['503', { status: 503, dialect: 'empty' }],
    ['504', { status: 504, dialect: 'empty' }],
    ['429 without Retry-After', { status: 429, dialect: 'empty' }],
    ['a dropped connection', { destroy: true }],
  ] as const)('retries %s once it clears', async (_name, fault) => {
    h.simulator.injectFault({ route: 'getEngine', engineId: A, times: 1, ...fault });
    const response = await h.gql(ENGINE, { id: A });
    expect(response.body.errors).toBeUndefined();
    expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBe(2);
  });

  it('gives up after CSE_RETRIES retries: a lasting HTML 502 is an UPSTREAM_* error, never the HTML', async () => {
    h.simulator.injectFault({ route: 'getEngine', engineId: A, status: 502, dialect: 'html' });
    const response = await h.gql(TWO_ENGINES, { a: A, b: B });
    expect(errorCodes(response)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(response.body.data).toEqual({ a: null, b: { id: B, name: expect.any(String) } });
    expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBe(3);
    expect(response.text).not.toContain('<html');
    expect(response.text).not.toContain(h.simulator.url);
  });

  it.each([
    ['400', { status: 400, dialect: 'cse', errorCode: 'SVCSTG.00500400' }, 'UPSTREAM_ERROR'],
    ['401', { status: 401, dialect: 'apig', errorCode: 'APIG.0301' }, 'UNAUTHENTICATED'],
    ['403', { status: 403, dialect: 'cse' }, 'FORBIDDEN'],
    ['404', { status: 404, dialect: 'empty' }, 'UPSTREAM_ERROR'],
    ['501', { status: 501, dialect: 'empty' }, 'UPSTREAM_ERROR'],
  ] as const)('never retries a %s', async (_name, fault, code) => {
    h.simulator.injectFault({ route: 'getEngine', engineId: A, ...fault });
    const response = await h.gql(ENGINE, { id: A });
    expect(errorCodes(response)).toEqual([code]);
    expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBe(1);
  });

  it('maps malformed JSON to UPSTREAM_BAD_RESPONSE without a retry, while the sibling field resolves', async () => {
    h.simulator.injectFault({ route: 'getEngine', engineId: A, malformed: true });
    const response = await h.gql(TWO_ENGINES, { a: A, b: B });
    expect(errorCodes(response)).toEqual(['UPSTREAM_BAD_RESPONSE']);
    expect(response.body.data.b).toEqual({ id: B, name: expect.any(String) });
    expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBe(1);
  });

  it('waits for a 429 with Retry-After: 1, then succeeds', async () => {
    h.simulator.injectFault({ route: 'getEngine', engineId: A, status: 429, dialect: 'empty', headers: { 'Retry-After': '1' }, times: 1 });
    const { result: response, ms } = await timed(() => h.gql(ENGINE, { id: A }));
    expect(response.body.errors).toBeUndefined();
    expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBe(2);
    // Waited as told (timer slack allowed), not a short backoff.
    expect(ms).toBeGreaterThanOrEqual(950);
  });

  it.each([
    // Engines of their own: the gateway then waits out a 429's Retry-After for that caller and engine.
    ['429', 429, 'RATE_LIMITED', SEED.engines.onePage],
    ['503', 503, 'UPSTREAM_UNAVAILABLE', SEED.engines.onePagePlusOne],
  ] as const)('fails a %s at once with retryAfter when Retry-After does not fit in the deadline', async (_name, status, code, id) => {
    h.simulator.injectFault({ route: 'getEngine', engineId: id, status, dialect: 'empty', headers: { 'Retry-After': '30' } });
    const { result: response, ms } = await timed(() => h.gql(ENGINE, { id }));
    expect(errorCodes(response)).toEqual([code]);
    expect(response.body.errors![0]!.extensions!.retryAfter).toBe(30);
    expect(h.simulator.callCount({ route: 'getEngine', engineId: id })).toBe(1);
    expect(ms).toBeLessThan(1500);
  });
});

describe("a 429's Retry-After", () => {
  let h: Harness;
  beforeAll(async () => {
    // An operation deadline shorter than any Retry-After below: the retry stage never waits one
    // out, so the 429 reaches the client at once and what follows is the gateway's memory of it.
    h = await startHarness({ ...CACHES_OFF, REQUEST_TIMEOUT_MS: '800' });
  });
  afterAll(() => h.close());
  beforeEach(() => h.simulator.reset());

  it(`is passed on at most MAX_RETRY_AFTER_S (${MAX_RETRY_AFTER_S} s), and the caller's calls to that engine wait it out without reaching the upstream`, async () => {
    // Its own caller: what the gateway remembers here must not touch the other tests.
    const caller = { 'x-auth-token': SECOND_TOKEN };
    h.simulator.injectFault({ route: 'getEngine', engineId: A, status: 429, dialect: 'apig', headers: { 'Retry-After': '99999999999' } });
    const first = await h.gql(ENGINE, { id: A }, caller);
    expect(errorCodes(first)).toEqual(['RATE_LIMITED']);
    expect(first.body.errors![0]!.extensions!.retryAfter).toBe(MAX_RETRY_AFTER_S);
    for (let i = 0; i < 10; i += 1) {
      const again = await h.gql(ENGINE, { id: A }, caller);
      expect(errorCodes(again)).toEqual(['RATE_LIMITED']);
      expect(again.body.errors![0]!.extensions!.retryAfter).toBeGreaterThan(MAX_RETRY_AFTER_S - 5);
      expect(again.body.errors![0]!.extensions!.retryAfter).toBeLessThanOrEqual(MAX_RETRY_AFTER_S);
    }
    expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBe(1);
    // The same caller's other engines are still asked.
    const other = await h.gql(ENGINE, { id: B }, caller);
    expect(other.body.errors).toBeUndefined();
    expect(h.simulator.callCount({ route: 'getEngine', engineId: B })).toBe(1);
  });

  it('after a 429 with Retry-After: 1, calls within that second are answered without an upstream call; after it they go', async () => {
    h.simulator.injectFault({ route: 'getEngine', engineId: A, status: 429, dialect: 'empty', headers: { 'Retry-After': '1' }, times: 1 });
    const first = await h.gql(ENGINE, { id: A });
    expect(errorCodes(first)).toEqual(['RATE_LIMITED']);
    expect(first.body.errors![0]!.extensions!.retryAfter).toBe(1);
    const within = await Promise.all([h.gql(ENGINE, { id: A }), h.gql(ENGINE, { id: A }), h.gql(TWO_ENGINES, { a: A, b: B })]);
    for (const response of within) {
      expect(errorCodes(response)).toEqual(['RATE_LIMITED']);
      expect(response.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 1, upstream: { status: 429 } });
    }
    expect(within[2]!.body.data.b).toEqual({ id: B, name: expect.any(String) });
    expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBe(1);

    await new Promise((resolve) => setTimeout(resolve, 1050));
    const after = await h.gql(ENGINE, { id: A });
    expect(after.body.errors).toBeUndefined();
    expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBe(2);
  });
});

describe('timeouts', () => {
  it('bounds each attempt by CSE_TIMEOUT_MS: an upstream answering after 2.5 s gives UPSTREAM_TIMEOUT in under 2.4 s, not retried', async () => {
    const h = await startHarness({ ...CACHES_OFF, CSE_TIMEOUT_MS: '1000' });
    try {
      h.simulator.injectFault({ route: 'getEngine', engineId: A, latencyMs: 2500 });
      const { result: response, ms } = await timed(() => h.gql(TWO_ENGINES, { a: A, b: B }));
      expect(errorCodes(response)).toEqual(['UPSTREAM_TIMEOUT']);
      expect(response.body.data.b).toEqual({ id: B, name: expect.any(String) });
      expect(ms).toBeLessThan(2400);
      expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBe(1);
    } finally {
      await h.close();
    }
  });

  it('bounds the whole operation by REQUEST_TIMEOUT_MS: no attempt or retry outlives it', async () => {
    const h = await startHarness({ ...CACHES_OFF, REQUEST_TIMEOUT_MS: '1000', CSE_RETRIES: '10', CSE_RETRY_BASE_MS: '50' });
    try {
      // Each attempt fails slowly; ten retries would take far longer than the operation may.
      h.simulator.injectFault({ route: 'getEngine', engineId: A, latencyMs: 400, status: 500, dialect: 'cse' });
      const { result: response, ms } = await timed(() => h.gql(ENGINE, { id: A }));
      expect(errorCodes(response)[0]).toMatch(/^UPSTREAM_/);
      expect(ms).toBeLessThan(1800);
      expect(h.simulator.callCount({ route: 'getEngine', engineId: A })).toBeLessThanOrEqual(3);

      h.simulator.reset();
      h.simulator.injectFault({ route: 'getEngine', engineId: A, latencyMs: 3000 });
      const slow = await timed(() => h.gql(ENGINE, { id: A }));
      expect(errorCodes(slow.result)).toEqual(['UPSTREAM_TIMEOUT']);
      expect(slow.ms).toBeLessThan(2000);
    } finally {
      await h.close();
    }
  });

  it("measures the operation's time on the monotonic clock: the wall clock stepping an hour forward mid-call ends nothing", async () => {
    const h = await startHarness({ ...CACHES_OFF, REQUEST_TIMEOUT_MS: '5000' });
    const wall = Date.now;
    try {
      // The job's call starts after the step, the engine's before it.
      h.simulator.injectFault({ route: 'getEngine', engineId: A, latencyMs: 300 });
      const answer = h.gql('query ($id: ID!) { engine(id: $id) { id latestJob { id } } }', { id: A });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const step = 3_600_000;
      Date.now = () => wall() + step;
      const response = await answer;
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data.engine).toMatchObject({ id: A, latestJob: { id: expect.any(String) } });
    } finally {
      Date.now = wall;
      await h.close();
    }
  });
});

describe('circuit breakers', () => {
  // Long enough that a loaded host's slow requests still meet an open breaker within it.
  const OPEN_MS = 1500;
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      ...CACHES_OFF,
      CSE_RETRIES: '0',
      CSE_BREAKER_FAILURES: '3',
      CSE_UPSTREAM_BREAKER_FAILURES: '3',
      CSE_BREAKER_OPEN_MS: String(OPEN_MS),
      // A page of 100 of the big engine's jobs is larger.
      CSE_MAX_RESPONSE_BYTES: String(64 * 1024),
    });
  });
  afterAll(() => h.close());
  beforeEach(async () => {
    h.simulator.reset();
    // Lets any breaker a previous test left open go half-open and close on its probe.
    await new Promise((resolve) => setTimeout(resolve, OPEN_MS + 50));
    await h.gql(TWO_ENGINES, { a: A, b: B });
    h.simulator.resetCalls();
  });

  it('opens the breaker of a failing engine (later calls reach it 0 times) while a healthy engine still answers', async () => {
    h.simulator.injectFault({ route: 'getEngine', engineId: A, status: 500, dialect: 'cse' });
    for (let i = 0; i < 3; i += 1) {
      expect(errorCodes(await h.gql(ENGINE, { id: A }))).toEqual(['UPSTREAM_ERROR']);
    }
    h.simulator.resetCalls();

    const response = await h.gql(TWO_ENGINES, { a: A, b: B });
    expect(errorCodes(response)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(response.body.errors![0]!.extensions).toMatchObject({ reason: 'CIRCUIT_OPEN' });
    // The seconds left of the open period, rounded up.
    expect([1, Math.ceil(OPEN_MS / 1000)]).toContain(response.body.errors![0]!.extensions!.retryAfter);
    expect(response.body.data.b).toEqual({ id: B, name: expect.any(String) });
    expect(h.simulator.callCount({ engineId: A })).toBe(0);
    expect(h.simulator.callCount({ engineId: B })).toBe(1);
    // The jobs of the failing engine are behind the same breaker.
    const jobs = await h.gql(`query ($id: ID!) { job(engineId: $id, id: "10001") { id } }`, { id: A });
    expect(errorCodes(jobs)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(h.simulator.callCount({ engineId: A })).toBe(0);
  });

  it('lets one probe through after CSE_BREAKER_OPEN_MS and closes when it succeeds', async () => {
    const fault = h.simulator.injectFault({ route: 'getEngine', engineId: A, status: 503, dialect: 'empty' });
    for (let i = 0; i < 3; i += 1) await h.gql(ENGINE, { id: A });
    expect(errorCodes(await h.gql(ENGINE, { id: A }))).toEqual(['UPSTREAM_UNAVAILABLE']);
    h.simulator.resetCalls();
    fault();

    await new Promise((resolve) => setTimeout(resolve, OPEN_MS + 50));
    // Two callers at once (two tokens, so single flight does not merge them): only the probe goes
    // upstream; the other is still refused.
    const probes = await Promise.all([h.gql(ENGINE, { id: A }), h.gql(ENGINE, { id: A }, { 'x-auth-token': SECOND_TOKEN })]);
    expect(h.simulator.callCount({ engineId: A })).toBe(1);
    expect(probes.filter((p) => p.body.errors === undefined)).toHaveLength(1);
    expect(probes.flatMap((p) => p.body.errors ?? []).map((e) => e.extensions!.reason)).toEqual(['CIRCUIT_OPEN']);

    const after = await h.gql(ENGINE, { id: A });
    expect(after.body.errors).toBeUndefined();
    expect(h.simulator.callCount({ engineId: A })).toBe(2);
  });

  it('never counts 4xx answers: an engine refusing the caller keeps being asked', async () => {
    h.simulator.injectFault({ route: 'getEngine', engineId: A, status: 403, dialect: 'cse' });
    for (let i = 0; i < 6; i += 1) expect(errorCodes(await h.gql(ENGINE, { id: A }))).toEqual(['FORBIDDEN']);
    expect(h.simulator.callCount({ engineId: A })).toBe(6);
  });

  it('counts no answer larger than CSE_MAX_RESPONSE_BYTES: pages one caller asks too large open no breaker for another', async () => {
    // Four calls at once (the filters differ): no success between their failures.
    const from = (i: number) => JSON.stringify(new Date(Date.UTC(2000, 0, 1 + i)).toISOString());
    const pages = [0, 1, 2, 3].map((i) => `p${i}: engine(id: $id) { jobs(first: 100, filter: { from: ${from(i)} }) { totalCount } }`);
    const large = await h.gql(`query ($id: ID!) { ${pages.join(' ')} }`, { id: A });
    expect(errorCodes(large)).toEqual(Array(4).fill('UPSTREAM_BAD_RESPONSE'));
    const other = await h.gql('query ($id: ID!) { engine(id: $id) { id jobs(first: 5) { totalCount } } engines(first: 1) { totalCount } }', { id: A }, { 'x-auth-token': SECOND_TOKEN });
    expect(other.body.errors).toBeUndefined();
  });

  it('does not trip the whole-upstream breaker on 5xx answers from many engines', async () => {
    const engines = [SEED.engines.big, SEED.engines.single, SEED.engines.onePage, SEED.engines.maxPage];
    h.simulator.injectFault({ route: 'getEngine', status: 500, dialect: 'cse' });
    for (const id of engines) {
      for (let i = 0; i < 3; i += 1) await h.gql(ENGINE, { id });
    }
    const list = await h.gql('{ engines(first: 3) { totalCount } }');
    expect(list.body.errors).toBeUndefined();
    expect(h.simulator.callCount({ route: 'listEngines' })).toBe(1);
  });

  it("opens the whole-upstream breaker on unreadable 200s (a proxy's HTML login page): the engine list stops being asked", async () => {
    const LIST = '{ engines(first: 3) { totalCount } }';
    h.simulator.injectFault({ status: 200, dialect: 'html' });
    for (let i = 0; i < 3; i += 1) expect(errorCodes(await h.gql(LIST))).toEqual(['UPSTREAM_BAD_RESPONSE']);
    for (let i = 0; i < 5; i += 1) {
      const response = await h.gql(LIST);
      expect(response.body.errors!.map((e) => e.extensions)).toEqual([expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE', reason: 'CIRCUIT_OPEN' })]);
      expect(response.text).not.toContain('<html');
    }
    expect(h.simulator.callCount({ route: 'listEngines' })).toBe(3);
    expect(h.simulator.calls).toHaveLength(3);
  });

  it('opens the whole-upstream breaker on transport failures: then no route reaches the upstream', async () => {
    const fault = h.simulator.injectFault({ destroy: true });
    for (let i = 0; i < 3; i += 1) expect(errorCodes(await h.gql(ENGINE, { id: A }))).toEqual(['UPSTREAM_UNAVAILABLE']);
    fault();
    h.simulator.resetCalls();

    const response = await h.gql(`query ($b: ID!) { b: engine(id: $b) { id } engines(first: 1) { totalCount } }`, { b: B });
    expect(response.body.errors!.map((e) => e.extensions!.reason)).toEqual(['CIRCUIT_OPEN', 'CIRCUIT_OPEN']);
    expect(h.simulator.calls).toHaveLength(0);
  });
});

describe('load shedding', () => {
  it('caps upstream calls in flight at CSE_MAX_INFLIGHT, queues CSE_MAX_QUEUE more, and sheds the rest with a clear error', async () => {
    // One caller: its share of the slots is the whole here.
    const h = await startHarness({ ...CACHES_OFF, CSE_MAX_INFLIGHT: '2', CSE_MAX_QUEUE: '1', CSE_MAX_INFLIGHT_PER_CALLER: '2' });
    try {
      // A token the upstream has answered: its calls go out together (see CredentialGate).
      await h.gql('{ engines(first: 1) { totalCount } }');
      h.simulator.resetCalls();
      h.simulator.injectFault({ route: 'getEngine', latencyMs: 200 });
      const ids = [SEED.engines.big, SEED.engines.single, SEED.engines.onePage, SEED.engines.onePagePlusOne, SEED.engines.maxPage, SEED.engines.drift];
      const query = `{ ${ids.map((id, i) => `e${i}: engine(id: "${id}") { id }`).join(' ')} }`;
      const response = await h.gql(query);
      const shed = response.body.errors ?? [];
      expect(shed).toHaveLength(3);
      for (const error of shed) {
        expect(error.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', reason: 'OVERLOADED' });
        expect(error.message).toMatch(/overloaded/);
      }
      expect(Object.values(response.body.data as Record<string, unknown>).filter((v) => v !== null)).toHaveLength(3);
      expect(h.simulator.peakInFlight).toBeLessThanOrEqual(2);
      expect(h.simulator.callCount({ route: 'getEngine' })).toBe(3);
    } finally {
      await h.close();
    }
  });

  it('holds a caller to its share whatever enterprise projects it names', async () => {
    const h = await startHarness({ ...CACHES_OFF, CSE_MAX_INFLIGHT: '8', CSE_MAX_QUEUE: '8', CSE_MAX_INFLIGHT_PER_CALLER: '2', CSE_MAX_QUEUE_PER_CALLER: '0' });
    try {
      const enterprises = ['1', '2', '3'].map((digit) => ({ 'x-enterprise-project-id': digit.repeat(32) }));
      // Each a scope the upstream has answered: its calls are the caller's, not a stranger's.
      for (const headers of enterprises) expect((await h.gql('{ engines(first: 1) { totalCount } }', undefined, headers)).body.errors).toBeUndefined();
      h.simulator.resetCalls();
      // Long enough that all three requests' calls meet at the limiter on a loaded host.
      h.simulator.injectFault({ route: 'getEngine', latencyMs: 1500 });
      const query = `{ a: engine(id: "${SEED.engines.big}") { id } b: engine(id: "${SEED.engines.single}") { id } }`;
      const responses = await Promise.all(enterprises.map((headers) => h.gql(query, undefined, headers)));
      const shed = responses.flatMap((response) => response.body.errors ?? []).map((error) => error.extensions!.reason);
      expect(shed).toEqual(Array(4).fill('OVERLOADED'));
      expect(h.simulator.peakInFlight).toBeLessThanOrEqual(2);
    } finally {
      await h.close();
    }
  });
});
