import { request } from 'undici';
import { SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';
import { cases, comparable, fillPlaceholders, type Case } from './executorCases';
import { postJson } from '../security/http';

/**
 * The adaptive executor (GRAPHQL_EXECUTOR=adaptive, the default) interprets a document until its
 * shape is hot, then runs every document of that shape with one compiled plan of the shape's
 * canonical document. Whatever ran, the answer must be graphql-js's: here a shape is hot after one
 * use, so each operation is answered once interpreted and then by the plan — as the same text, as
 * another text of the same shape, and with its inline numbers changed — and each answer, its
 * status and the upstream calls are compared with an interpreting gateway's.
 */

let adaptive: Harness;
let interpreted: Harness;
// Each case runs several times here: its injected 500s must not open a breaker (whose retry-after,
// a matter of timing, would then differ between the two gateways) for the cases after it.
const env = { ...CACHES_OFF, NODE_ENV: 'production', ENABLE_INTROSPECTION: 'true', LOG_LEVEL: 'silent', CSE_BREAKER_FAILURES: '1000', CSE_UPSTREAM_BREAKER_FAILURES: '1000' };
beforeAll(async () => {
  [adaptive, interpreted] = await Promise.all([
    startHarness({ ...env, GRAPHQL_EXECUTOR: 'adaptive', GRAPHQL_COMPILE_AFTER_USES: '1' }),
    startHarness({ ...env, GRAPHQL_EXECUTOR: 'graphql-js' }),
  ]);
});
afterAll(async () => {
  await Promise.all([adaptive.close(), interpreted.close()]);
});

/** How many operations each executor ran, from the gateway's own /metrics. */
async function executions(h: Harness): Promise<{ compiled: number; interpreted: number }> {
  const response = await request(h.gateway.metricsUrl!);
  const text = await response.body.text();
  const count = (executor: string) => Number(new RegExp(`^gateway_operation_executions_total\\{executor="${executor}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { compiled: count('compiled'), interpreted: count('interpreted') };
}

/** The texts of one shape: the case's, the same with a comment, and with every `first: N` made N + 1 (a new literal). */
function sameShape(c: Case): Array<{ what: string; query: string }> {
  const texts = [
    { what: 'as written', query: c.query },
    { what: 'as written, again', query: c.query },
    { what: 'as another text', query: `# the same shape\n${c.query}` },
  ];
  const bumped = c.query.replace(/\bfirst: (\d+)/g, (_all, n: string) => `first: ${Number(n) + 1}`);
  if (bumped !== c.query) texts.push({ what: 'with other numbers', query: bumped });
  return texts;
}

async function answerBoth(c: Case, query: string) {
  for (const h of [adaptive, interpreted]) {
    h.simulator.reset();
    for (const fault of c.faults ?? []) h.simulator.injectFault(fault);
  }
  const fromAdaptive = await adaptive.gql(query, c.variables);
  const adaptiveCalls = adaptive.simulator.callCount();
  const fromInterpreted = await interpreted.gql(query, c.variables);
  // The compile is put off the request path (setImmediate): let it run before the next text.
  await new Promise((resolve) => setTimeout(resolve, 5));
  return { fromAdaptive, fromInterpreted, adaptiveCalls, interpretedCalls: interpreted.simulator.callCount() };
}

it.each(cases.map((c) => [c.name, c] as const))('answers %s as graphql-js does, before and after its shape is compiled', async (_name, raw) => {
  const c = await fillPlaceholders(raw, interpreted);
  const before = await executions(adaptive);
  for (const { what, query } of sameShape(c)) {
    const { fromAdaptive, fromInterpreted, adaptiveCalls, interpretedCalls } = await answerBoth(c, query);
    expect({ what, ...comparable(fromAdaptive) }).toEqual({ what, ...comparable(fromInterpreted) });
    expect({ what, calls: adaptiveCalls }).toEqual({ what, calls: interpretedCalls });
  }
  const after = await executions(adaptive);
  if (c.refusedBeforeExecution === true) {
    expect(after).toEqual(before);
    return;
  }
  // Every text after the first went to the shape's plan (which hands refusals and errors back to
  // graphql-js: the comparison above shows that it answered as graphql-js does).
  expect(after.compiled - before.compiled).toBeGreaterThanOrEqual(sameShape(c).length - 1);
});

/** The same request several times: interpreted first, then (its shape hot after one use) by the plan. */
async function eachTime(times: number, send: () => Promise<void>): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    await send();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

it('reports a variable that cannot be coerced as BAD_USER_INPUT, as graphql-js does, before any executor runs', async () => {
  const before = await executions(adaptive);
  await eachTime(3, async () => {
    adaptive.simulator.reset();
    const response = await adaptive.gql(`query M($id: ID!) { engine(id: $id) { id } }`, {});
    expect(response.status).toBe(200);
    expect(response.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(adaptive.simulator.callCount()).toBe(0);
  });
  expect(await executions(adaptive)).toEqual(before);
});

it('keeps the path and location of a field error raised while serializing a leaf', async () => {
  const before = await executions(adaptive);
  await eachTime(3, async () => {
    adaptive.simulator.reset();
    adaptive.simulator.injectFault({ route: 'getEngine', engineId: SEED.engines.big, status: 200, body: { id: SEED.engines.big, name: 'x', version: { a: 1 } } });
    const response = await adaptive.gql(`{\n  engine(id: "${SEED.engines.big}") {\n    version\n  }\n}`);
    expect(response.body.errors).toEqual([
      expect.objectContaining({ path: ['engine', 'version'], locations: [{ line: 3, column: 5 }], extensions: expect.objectContaining({ code: 'UPSTREAM_BAD_RESPONSE' }) }),
    ]);
    expect(response.body.data).toEqual({ engine: { version: null } });
  });
  expect((await executions(adaptive)).compiled - before.compiled).toBeGreaterThanOrEqual(2);
});

it('keeps a plan per operation of a document: each name is answered by its own operation', async () => {
  const query = `query A { engine(id: "${SEED.engines.single}") { id } } query B { engines(first: 2) { totalCount } }`;
  const before = await executions(adaptive);
  await eachTime(3, async () => {
    for (const operationName of ['A', 'B']) {
      const [a, b] = await Promise.all(
        [adaptive, interpreted].map((h) => postJson(h.gateway.url, { query, operationName }).then((r) => r.json())),
      );
      expect({ operationName, ...a }).toEqual({ operationName, ...b });
    }
  });
  // After the first use of each, both names ran their plans.
  expect((await executions(adaptive)).compiled - before.compiled).toBeGreaterThanOrEqual(4);
});

describe("a batch's operations (ALLOW_BATCHING), which share one budget", () => {
  let batching: Harness;
  beforeAll(async () => {
    batching = await startHarness({ ...env, ALLOW_BATCHING: 'true', GRAPHQL_EXECUTOR: 'adaptive', GRAPHQL_COMPILE_AFTER_USES: '1' });
  });
  afterAll(() => batching.close());

  it('are interpreted, never compiled: a compiled run with errors would be run again from a fresh count of the bytes sent, the others\' included', async () => {
    const query = '{ engines(first: 2) { totalCount nodes { id } } }';
    for (let i = 0; i < 4; i++) {
      const response = await postJson(batching.gateway.url, [{ query }, { query }]);
      expect(response.json()).toHaveLength(2);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await executions(batching)).compiled).toBe(0);
    // The same operation alone is compiled once hot.
    for (let i = 0; i < 4; i++) {
      await batching.gql(query);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await executions(batching)).compiled).toBeGreaterThan(0);
  });
});
