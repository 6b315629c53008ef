import { SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';

/** Upstream failures become codes from the closed set, field by field, with partial data. */

let h: Harness;
beforeAll(async () => {
  // Each test injects a failure on the same engine: the circuit breakers (which would rightly open
  // after a few of them, see resilience.test.ts) and the cache are kept out of the way, so every
  // test sees the mapping of its own failure.
  h = await startHarness({ ...CACHES_OFF, CSE_BREAKER_FAILURES: '10000', CSE_UPSTREAM_BREAKER_FAILURES: '10000' });
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.simulator.reset();
});

const TWO_ENGINES = `query ($a: ID!, $b: ID!) { a: engine(id: $a) { id name } b: engine(id: $b) { id name } }`;
const vars = () => ({ a: SEED.engines.big, b: SEED.engines.single });

it.each([
  ['500 with a CSE body', { status: 500, dialect: 'cse', errorCode: 'SVCSTG.00300500' }, 'UPSTREAM_ERROR', 'SVCSTG.00300500'],
  ['500 with a camelCase body', { status: 500, dialect: 'camel', errorCode: 'SVCSTG.00300501' }, 'UPSTREAM_ERROR', 'SVCSTG.00300501'],
  ['400 with an error_message body', { status: 400, dialect: 'snake_message', errorCode: 'SVCSTG.00500400' }, 'UPSTREAM_ERROR', 'SVCSTG.00500400'],
  ['403 with a code/message body', { status: 403, dialect: 'code_message', errorCode: 'CSE.403' }, 'FORBIDDEN', 'CSE.403'],
  ['401 from the API gateway', { status: 401, dialect: 'apig', errorCode: 'APIGW.0307' }, 'UNAUTHENTICATED', 'APIGW.0307'],
  ['429 with an empty body', { status: 429, dialect: 'empty' }, 'RATE_LIMITED', undefined],
  ['503 with an empty body', { status: 503, dialect: 'empty' }, 'UPSTREAM_UNAVAILABLE', undefined],
  ['502 HTML from a proxy', { status: 502, dialect: 'html' }, 'UPSTREAM_UNAVAILABLE', undefined],
  ['504 from a proxy', { status: 504, dialect: 'empty' }, 'UPSTREAM_TIMEOUT', undefined],
] as const)('maps %s to %s on that field only; the sibling still resolves', async (_name, fault, code, upstreamCode) => {
  h.simulator.injectFault({ route: 'getEngine', engineId: SEED.engines.big, ...fault });
  const response = await h.gql(TWO_ENGINES, vars());
  expect(response.status).toBe(200);
  expect(errorCodes(response)).toEqual([code]);
  const error = response.body.errors![0]!;
  expect(error.path).toEqual(['a']);
  expect(error.extensions!.upstream.status).toBe(fault.status);
  expect(error.extensions!.upstream.code).toBe(upstreamCode);
  expect(typeof error.extensions!.upstream.requestId).toBe('string');
  expect(response.body.data).toEqual({ a: null, b: { id: SEED.engines.single, name: expect.any(String) } });
  // Never the upstream's address, raw body or a stack trace.
  expect(response.text).not.toContain(h.simulator.url);
  expect(response.text).not.toContain('<html');
  expect(response.text).not.toMatch(/stacktrace|\bat .+\.ts:\d+/);
});

it('maps a malformed JSON body to UPSTREAM_BAD_RESPONSE while sibling fields resolve', async () => {
  h.simulator.injectFault({ route: 'getEngine', engineId: SEED.engines.big, malformed: true });
  const response = await h.gql(TWO_ENGINES, vars());
  expect(errorCodes(response)).toEqual(['UPSTREAM_BAD_RESPONSE']);
  expect(response.body.data.b).not.toBeNull();
});

it('maps a dropped connection to UPSTREAM_UNAVAILABLE', async () => {
  h.simulator.injectFault({ route: 'getEngine', engineId: SEED.engines.big, destroy: true });
  const response = await h.gql(TWO_ENGINES, vars());
  expect(errorCodes(response)).toEqual(['UPSTREAM_UNAVAILABLE']);
  expect(response.body.data.b).not.toBeNull();
});

it('maps a malformed job id the upstream refuses to BAD_USER_INPUT', async () => {
  h.simulator.injectFault({ route: 'getJob', status: 400, dialect: 'cse', errorCode: 'SVCSTG.00501152' });
  const response = await h.gql(`{ job(engineId: "${SEED.engines.big}", id: "1") { id } }`);
  expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
});

it('answers NOT_FOUND where null is impossible: the jobs of an engine that vanished mid-operation', async () => {
  h.simulator.injectFault({ route: 'listJobs', status: 400, dialect: 'cse', errorCode: 'SVCSTG.00501116' });
  const response = await h.gql(`{ engine(id: "${SEED.engines.big}") { name jobs { totalCount } } }`);
  expect(errorCodes(response)).toEqual(['NOT_FOUND']);
  expect(response.body.errors![0]!.path).toEqual(['engine', 'jobs']);
});

it('answers UPSTREAM_ERROR, not an empty list, for a "not found" on the engine list (it names nothing to miss)', async () => {
  h.simulator.injectFault({ route: 'listEngines', status: 400, dialect: 'cse', errorCode: 'SVCSTG.00501116' });
  const response = await h.gql('{ engines(first: 3) { totalCount nodes { id } } }');
  expect(errorCodes(response)).toEqual(['UPSTREAM_ERROR']);
  expect(response.body.errors![0]!.extensions!.upstream).toMatchObject({ status: 400, code: 'SVCSTG.00501116' });
  expect(response.body.data).toBeNull();
});

it('reports a failure inside a fan-out at its path', async () => {
  h.simulator.injectFault({ route: 'listJobs', engineId: SEED.engines.big, status: 500, dialect: 'cse' });
  const response = await h.gql(`{ engines(first: 30) { nodes { id jobs(first: 1) { totalCount } } } }`);
  expect(errorCodes(response)).toEqual(['UPSTREAM_ERROR']);
  const index = response.body.errors![0]!.path![2];
  expect(response.body.errors![0]!.path).toEqual(['engines', 'nodes', index, 'jobs']);
  // The contract makes Engine.jobs, the node list and Query.engines all non-null, so graphql-js
  // carries the null up to the response root: the error names the engine, the data is null.
  expect(response.body.data).toBeNull();
});

it('refuses a JSON body of the wrong shape as UPSTREAM_BAD_RESPONSE', async () => {
  h.simulator.injectFault({ route: 'getEngine', engineId: SEED.engines.big, status: 200, body: { unexpected: true } });
  const response = await h.gql(TWO_ENGINES, vars());
  expect(errorCodes(response)).toEqual(['UPSTREAM_BAD_RESPONSE']);
});
