import * as enums from '../../src/mapping/enums';
import { SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';

/**
 * Unexpected errors are masked through real HTTP; errors that are the upstream's are not bugs and
 * keep a code of their own.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ...CACHES_OFF, NODE_ENV: 'production', LOG_LEVEL: 'warn' });
});
afterAll(async () => {
  await h.close();
});
afterEach(() => jest.restoreAllMocks());

it('masks an unexpected error as INTERNAL_SERVER_ERROR with a correlation id that is also in the log line', async () => {
  // A gateway bug, planted: the engine status mapping throws an error without a code.
  jest.spyOn(enums, 'mapEngineStatus').mockImplementation(() => {
    throw new Error('bug: internal detail');
  });
  const response = await h.gql(`{ engine(id: "${SEED.engines.big}") { id status } other: engine(id: "${SEED.engines.single}") { id } }`, undefined, {
    'x-request-id': 'masked-1',
  });
  expect(errorCodes(response)).toEqual(['INTERNAL_SERVER_ERROR']);
  const error = response.body.errors![0]!;
  expect(error.message).toBe('Internal server error');
  expect(error.path).toEqual(['engine', 'status']);
  expect(error.extensions!.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  expect(response.text).not.toMatch(/internal detail|stacktrace/);
  // The rest of the operation still resolves (the engine's non-null status nulls the engine).
  expect(response.body.data).toEqual({ engine: null, other: { id: SEED.engines.single } });
  const line = h.logs.find((entry) => entry.includes(error.extensions!.correlationId));
  expect(line).toBeDefined();
  expect(line).toMatch(/internal detail/);
  // The line names the request, though the masking only sees the error.
  expect(JSON.parse(line!).requestId).toBe('masked-1');
});

describe('an upstream value its field type cannot represent', () => {
  it.each([
    ['an object for a String', { version: { secret: 'internal detail' } }, 'version', 'String'],
    ['an array for a String', { flavor: ['internal detail'] }, 'flavor', 'String'],
    ['an object for a non-null String', { name: { secret: 'internal detail' } }, 'name', 'String'],
  ])('%s is UPSTREAM_BAD_RESPONSE for that field, logged by path and type, never by value', async (_what, fields, field, type) => {
    h.simulator.injectFault({ route: 'getEngine', engineId: SEED.engines.big, status: 200, body: { id: SEED.engines.big, name: 'n', ...fields }, times: 1 });
    const logged = h.logs.length;
    const response = await h.gql(`{ engine(id: "${SEED.engines.big}") { id ${field} } other: engine(id: "${SEED.engines.single}") { id } }`, undefined, {
      'x-request-id': `value-${field}`,
    });
    expect(errorCodes(response)).toEqual(['UPSTREAM_BAD_RESPONSE']);
    expect(response.body.errors![0]!.path).toEqual(['engine', field]);
    expect(response.body.errors![0]!.message).toBe(`The upstream sent a value this field cannot represent as ${type}.`);
    expect(response.body.data.other).toEqual({ id: SEED.engines.single });
    expect(response.text).not.toMatch(/internal detail|cannot represent value/);
    const lines = h.logs.slice(logged);
    expect(lines.join('')).not.toMatch(/internal detail|secret/);
    const warning = lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'upstream value the field type cannot represent');
    expect(warning).toMatchObject({ requestId: `value-${field}`, path: ['engine', field], type, level: 'warn' });
    // Not an error-level line: it is no bug of ours, and must not page anyone.
    expect(lines.some((line) => ['error', 'fatal'].includes(JSON.parse(line).level))).toBe(false);
  });

  it('a total beyond GraphQL Int is UPSTREAM_BAD_RESPONSE for the connection', async () => {
    h.simulator.injectFault({ route: 'listJobs', engineId: SEED.engines.big, status: 200, body: { total: 2 ** 31, data: [] }, times: 1 });
    const logged = h.logs.length;
    const response = await h.gql(`{ engine(id: "${SEED.engines.big}") { jobs(first: 1) { totalCount } } other: engine(id: "${SEED.engines.single}") { id } }`);
    expect(errorCodes(response)).toEqual(['UPSTREAM_BAD_RESPONSE']);
    expect(response.body.data.other).toEqual({ id: SEED.engines.single });
    expect(h.logs.slice(logged).some((line) => ['error', 'fatal'].includes(JSON.parse(line).level))).toBe(false);
  });

  it('a body nested thousands of levels deep is answered, not a crash', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const body = `{"total":1,"data":[{"id":"${SEED.engines.big}","name":"n","deep":${deep}}]}`;
    // Two identical requests at once share the answer, which freezes it (the walk that overflowed).
    h.simulator.injectFault({ route: 'listEngines', status: 200, body, latencyMs: 100, times: 1 });
    const [a, b] = await Promise.all([h.gql('{ engines(first: 1) { nodes { id name } } }'), h.gql('{ engines(first: 1) { nodes { name id } } }')]);
    expect(a.body).toEqual({ data: { engines: { nodes: [{ id: SEED.engines.big, name: 'n' }] } } });
    expect(b.body).toEqual({ data: { engines: { nodes: [{ id: SEED.engines.big, name: 'n' }] } } });
  });

  it('a large body nested deeper than any upstream shape is refused before it is parsed', async () => {
    // 150,000 levels in 300 KB: parsing and freezing it would block the process for a while.
    const deep = `${'['.repeat(150_000)}${']'.repeat(150_000)}`;
    const body = `{"total":1,"data":[{"id":"${SEED.engines.big}","name":"n","deep":${deep}}]}`;
    h.simulator.injectFault({ route: 'listEngines', status: 200, body, times: 1 });
    const response = await h.gql('{ engines(first: 1) { nodes { id } } }');
    expect(errorCodes(response)).toEqual(['UPSTREAM_BAD_RESPONSE']);
  });

  it('a large body with a list of more members than any answer has is refused, not assembled and frozen', async () => {
    // 1.9 million numbers in 3.8 MB, under CSE_MAX_RESPONSE_BYTES: a long step to assemble and freeze.
    const big = `[${Array(1_900_000).fill(0).join(',')}]`;
    const body = `{"total":1,"data":[{"id":"${SEED.engines.big}","name":"n","big":${big}}]}`;
    h.simulator.injectFault({ route: 'listEngines', status: 200, body, times: 1 });
    const response = await h.gql('{ engines(first: 1) { nodes { id } } }');
    expect(errorCodes(response)).toEqual(['UPSTREAM_BAD_RESPONSE']);
  });

  it('a task output nested too deeply for the response is answered as its text', async () => {
    const output = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const [job] = h.simulator.addJobs(SEED.engines.single, 1, { tasks: [{ id: 1, taskOrder: 0, status: 'Finished', output }] });
    const response = await h.gql(`{ job(engineId: "${SEED.engines.single}", id: "${job!.id}") { tasks { output } } }`);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.job.tasks[0].output).toBe(output);
    h.simulator.reset();
  });
});

it('lets expected gateway errors through with their codes', async () => {
  const response = await h.gql('{ engine(id: "../etc") { id } }');
  expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
  expect(response.body.errors![0]!.message).toMatch(/not a valid engine id/);
});

it.each([
  ['a body that is not JSON', { status: 200, malformed: true }],
  ['a 500', { status: 500 }],
])("never passes on an upstream request id that is not short and plain (%s)", async (_, fault) => {
  const hostile = `http://10.1.2.3:8443/${'cse-demo-token-0000000000000001'} "<script>`;
  h.simulator.injectFault({ route: 'getEngine', headers: { 'X-Request-Id': hostile }, ...fault });
  try {
    const response = await h.gql(`{ engine(id: "${SEED.engines.big}") { id name } }`);
    expect(errorCodes(response)).toEqual([fault.status === 200 ? 'UPSTREAM_BAD_RESPONSE' : 'UPSTREAM_ERROR']);
    expect(response.body.errors![0]!.extensions!.upstream.status).toBe(fault.status);
    expect(response.text).not.toMatch(/10\.1\.2\.3|cse-demo-token|<script>/);
  } finally {
    h.simulator.clearFaults();
  }
});

it('an upstream sending a new status on every job writes one warn line per request; a nested one is UNKNOWN, never an error', async () => {
  const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
  const fresh = Date.now();
  const jobs = Array.from({ length: 50 }, (_, i) => {
    const status = i === 0 ? deep : `"Drifted-${fresh}-${i}"`;
    return `{"id":${i + 1},"type":"Create","status":${status},"startTime":0,"tasks":[]}`;
  });
  h.simulator.injectFault({ route: 'listJobs', status: 200, body: `{"total":50,"data":[${jobs.join(',')}]}` });
  const before = h.logs.length;
  try {
    const response = await h.gql(`{ engine(id: "${SEED.engines.single}") { jobs(first: 50) { nodes { id status } } } }`);
    expect(response.body.errors).toBeUndefined();
    const statuses = (response.body.data.engine.jobs.nodes as Array<{ status: string }>).map((job) => job.status);
    expect(statuses).toEqual(Array(50).fill('UNKNOWN'));
    const lines = h.logs.slice(before).map((line) => JSON.parse(line) as { level: string; value?: string });
    expect(lines.filter((line) => line.level !== 'info')).toEqual([expect.objectContaining({ level: 'warn', value: '<array>' })]);
  } finally {
    h.simulator.clearFaults();
  }
});
