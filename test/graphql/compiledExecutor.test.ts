import { SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';
import { cases, comparable, fillPlaceholders } from './executorCases';

/**
 * The compiled executor (graphql-jit, GRAPHQL_EXECUTOR=compiled) must answer
 * exactly what graphql-js's interpreter answers: one gateway of each kind, each over its own
 * simulator, get the same operations (and the same upstream faults); status, body and the
 * upstream calls made must be equal. Only what is random by design is set aside: correlation
 * ids and the upstream's request ids.
 */

let compiled: Harness;
let interpreted: Harness;
const env = { ...CACHES_OFF, NODE_ENV: 'production', ENABLE_INTROSPECTION: 'true', LOG_LEVEL: 'silent' };
beforeAll(async () => {
  [compiled, interpreted] = await Promise.all([
    startHarness({ ...env, GRAPHQL_EXECUTOR: 'compiled' }),
    startHarness({ ...env, GRAPHQL_EXECUTOR: 'graphql-js' }),
  ]);
});
afterAll(async () => {
  await Promise.all([compiled.close(), interpreted.close()]);
});
beforeEach(() => {
  compiled.simulator.reset();
  interpreted.simulator.reset();
});

it.each(cases.map((c) => [c.name, c] as const))('answers %s exactly as graphql-js does', async (_name, raw) => {
  const c = await fillPlaceholders(raw, interpreted);
  compiled.simulator.reset();
  interpreted.simulator.reset();
  for (const fault of c.faults ?? []) {
    compiled.simulator.injectFault(fault);
    interpreted.simulator.injectFault(fault);
  }
  const [fromCompiled, fromInterpreted] = [await compiled.gql(c.query, c.variables), await interpreted.gql(c.query, c.variables)];
  expect(comparable(fromCompiled)).toEqual(comparable(fromInterpreted));
  expect(compiled.simulator.callCount()).toBe(interpreted.simulator.callCount());
  // The cases mean something: each answers data, or errors, or both, and not by accident alike.
  expect(fromCompiled.body.data !== undefined || fromCompiled.body.errors !== undefined).toBe(true);
});

it('reports a variable that cannot be coerced as BAD_USER_INPUT with HTTP 400, as graphql-js does', async () => {
  const response = await compiled.gql(`query M($id: ID!) { engine(id: $id) { id } }`, {});
  expect(response.status).toBe(400);
  expect(response.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  expect(compiled.simulator.callCount()).toBe(0);
});

it('keeps the path and location of a field error raised while serializing a leaf', async () => {
  compiled.simulator.injectFault({ route: 'getEngine', engineId: SEED.engines.big, status: 200, body: { id: SEED.engines.big, name: 'x', version: { a: 1 } } });
  const response = await compiled.gql(`{\n  engine(id: "${SEED.engines.big}") {\n    version\n  }\n}`);
  expect(response.body.errors).toEqual([
    expect.objectContaining({ path: ['engine', 'version'], locations: [{ line: 3, column: 5 }], extensions: expect.objectContaining({ code: 'UPSTREAM_BAD_RESPONSE' }) }),
  ]);
  expect(response.body.data).toEqual({ engine: { version: null } });
});
