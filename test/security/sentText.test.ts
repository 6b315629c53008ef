import { DEMO_PROJECT_ID } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, startGatewayOn, type GatewayHarness, type GqlResponse } from '../support/harness';
import { startFakeUpstream, type FakeUpstream } from '../support/upstream';

/**
 * Every string the upstream sent counts against the operation's bound on sent text each time the
 * answer holds it (`SENT_BYTES`): aliases, `Job.engine` and `_entities` repeat one answer's text,
 * and before, only jobs' `context` and tasks' `log` and `output` were counted, so one engine
 * description of a few MiB made answers of hundreds of MiB (and a 500 from their serialisation).
 */

const ENGINE = 'e-text';
const ENGINES_PATH = `/v2/${DEMO_PROJECT_ID}/enginemgr/engines`;
const LIMIT = 256 * 1024;
/** Four copies fit under LIMIT, the fifth does not. */
const TEXT_CHARS = 60_000;

type Kind = 'engine' | 'job' | 'task' | 'executor';
/** What the next answers hold in place of one field's small value. */
let big: { kind: Kind; key: string; value: unknown } | undefined;
let jobsPerPage = 1;
let tasksPerJob = 1;

function withBig<T extends object>(kind: Kind, value: T): T {
  return big?.kind === kind ? { ...value, [big.key]: big.value } : value;
}

function answer(path: string): string | undefined {
  const [route] = path.split('?');
  const engine = withBig('engine', { id: ENGINE, name: 'n', status: 'Available', latestJobId: 1 });
  if (route === ENGINES_PATH) return JSON.stringify({ total: 1, data: [engine] });
  if (route === `${ENGINES_PATH}/${ENGINE}`) return JSON.stringify(engine);
  if (!route!.startsWith(`${ENGINES_PATH}/${ENGINE}/jobs`)) return undefined;
  const executor = withBig('executor', { duration: 1, description: 'd' });
  const tasks = Array.from({ length: tasksPerJob }, (_, i) =>
    withBig('task', { id: i + 1, jobId: 1, taskOrder: i, status: 'Finished', taskExecutorBrief: executor }),
  );
  const jobs = Array.from({ length: jobsPerPage }, (_, i) =>
    withBig('job', { id: i + 1, engineId: ENGINE, status: 'Finished', description: 'd', tasks }),
  );
  // Job details: the page's first job.
  if (route !== `${ENGINES_PATH}/${ENGINE}/jobs`) return JSON.stringify(jobs[0]);
  return JSON.stringify({ total: jobsPerPage, data: jobs });
}

let upstream: FakeUpstream;
let gateway: GatewayHarness;
beforeAll(async () => {
  upstream = await startFakeUpstream(answer);
  gateway = await startGatewayOn(upstream, { ...CACHES_OFF, OPERATION_MAX_UPSTREAM_BYTES: String(LIMIT), LOG_LEVEL: 'info', GRAPHQL_COMPILE_AFTER_USES: '1' });
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});
beforeEach(() => {
  big = undefined;
  jobsPerPage = 1;
  tasksPerJob = 1;
  upstream.calls.length = 0;
  gateway.logs.length = 0;
});

const aliases = (selection: string, copies = 12) => Array.from({ length: copies }, (_, i) => `c${i}: ${selection}`).join(' ');

/** A bounded answer: 200, what is past the bound refused as SENT_BYTES, no error logged. */
function expectBounded(response: GqlResponse<unknown>, tooLarge: number): void {
  expect(response.status).toBe(200);
  expect(response.text.length).toBeLessThan(LIMIT + 64 * 1024);
  // The first field past the bound fails with its own error; the others after it with one, counting them.
  const codes = (response.body.errors ?? []).map((error) => error.extensions);
  const sentBytes = { code: 'RESPONSE_TOO_LARGE', reason: 'SENT_BYTES', limit: LIMIT };
  expect(codes).toEqual(tooLarge === 0 ? [] : tooLarge === 1 ? [sentBytes] : [sentBytes, { ...sentBytes, fields: tooLarge - 1 }]);
  expect(gateway.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50)).toEqual([]);
}

const text = 'A'.repeat(TEXT_CHARS);
const digits = '1'.repeat(TEXT_CHARS);
const jobs = (selection: string) => `{ engine(id: "${ENGINE}") { jobs(first: 1) { nodes { ${selection} } } } }`;
const tasks = (selection: string) => jobs(`tasks { ${selection} }`);

describe('every string of an upstream answer counts, each copy', () => {
  // Each field's copies past the bound fail alone, or with what holds them when the field is non-null.
  it.each<[Kind, string, unknown, string, number]>([
    ['engine', 'name', text, `{ engines(first: 1) { nodes { ${aliases('name')} } } }`, 1],
    // Ids of a page's items are bounded by their cursors' length, and those of details are the ids asked for
    // (test/security/upstreamIds.test.ts): both UPSTREAM_BAD_RESPONSE otherwise.
    ['engine', 'description', text, `{ engine(id: "${ENGINE}") { ${aliases('description')} } }`, 8],
    ...['type', 'flavor', 'version', 'latestVersion', 'authType'].map(
      (key) => ['engine', key, text, `{ engine(id: "${ENGINE}") { ${aliases(key)} } }`, 8] as [Kind, string, unknown, string, number],
    ),
    ['engine', 'createUser', text, `{ engine(id: "${ENGINE}") { ${aliases('createUser')} } }`, 8],
    ['engine', 'enterpriseProjectId', text, `{ engine(id: "${ENGINE}") { ${aliases('enterpriseProjectId')} } }`, 8],
    ['job', 'description', text, jobs(aliases('description')), 8],
    ['job', 'createUser', text, jobs(aliases('createUser')), 8],
    ['job', 'context', text, jobs(aliases('context')), 8],
    ['task', 'taskName', text, tasks(aliases('name')), 8],
    ['task', 'engineName', text, tasks(aliases('engineName')), 8],
    ['task', 'assigned', text, tasks(aliases('assigned')), 8],
    ['task', 'log', text, tasks(aliases('log')), 8],
    ['task', 'output', text, tasks(aliases('output')), 8],
    ['task', 'output', { text }, tasks(aliases('output')), 8],
    ['task', 'id', digits, tasks(aliases('id')), 1],
    ['task', 'jobId', digits, tasks(aliases('jobId')), 1],
    ['executor', 'description', text, tasks(`executor { ${aliases('description')} }`), 8],
  ])('%s.%s (%#)', async (kind, key, value, query, tooLarge) => {
    big = { kind, key, value };
    // Interpreted, then compiled: a compiled run with errors is made again, its text counted anew.
    expectBounded(await gateway.gql(query), tooLarge);
    expectBounded(await gateway.gql(query), tooLarge);
  });
});

describe('the attacker\'s shapes: one large description repeated', () => {
  beforeEach(() => {
    big = { kind: 'engine', key: 'description', value: 'D'.repeat(200_000) };
    jobsPerPage = 100;
  });

  it('through Job.engine, on each job of a page', async () => {
    const response = await gateway.gql(`{ engine(id: "${ENGINE}") { jobs(first: 100) { nodes { id engine { description } } } } }`);
    expectBounded(response, 99);
    expect(upstream.calls).toHaveLength(2);
  });

  it('fails thousands of fields past the bound with one error that counts them, built once', async () => {
    const page = (i: number) => `p${i}: jobs(first: 100) { nodes { engine { description } } edges { node { engine { description } } } }`;
    const response = await gateway.gql(`{ engine(id: "${ENGINE}") { ${Array.from({ length: 29 }, (_, i) => page(i)).join(' ')} } }`);
    expect(response.text.length).toBeLessThan(LIMIT + 64 * 1024);
    const [first, rest, ...none] = response.body.errors!;
    expect(none).toEqual([]);
    expect([first!.path![0], first!.path!.at(-1)]).toEqual(['engine', 'description']);
    expect(rest!.path).toBeUndefined();
    expect(rest!.message).toMatch(/The fields after it that needed more are null/);
    expect(rest!.extensions).toEqual({ code: 'RESPONSE_TOO_LARGE', reason: 'SENT_BYTES', limit: LIMIT, fields: expect.any(Number) });
    expect(rest!.extensions!.fields).toBeGreaterThan(1000);
  });

  it('through aliases of a connection', async () => {
    const page = (first: number) => `jobs(first: ${first}) { nodes { engine { description } } }`;
    const response = await gateway.gql(`{ engine(id: "${ENGINE}") { a: ${page(100)} b: ${page(99)} } }`);
    expectBounded(response, 198);
  });

  it('through _entities representations', async () => {
    const representations = Array.from({ length: 150 }, () => ({ __typename: 'Engine', id: ENGINE }));
    const query = 'query R($r: [_Any!]!) { _entities(representations: $r) { ... on Engine { description } } }';
    const response = await gateway.gql(query, { r: representations });
    expectBounded(response, 149);
  });
});

describe('lists: each item counts as 128 bytes and its keys', () => {
  it('bounds a job page\'s tasks repeated by aliases: the lists that fit are answered, the rest refused', async () => {
    // 2 × 700 tasks of 128 bytes and 39 of keys ("order":, "status":, "type":, "timedOut":): 233,800
    // bytes, under LIMIT once, not twice.
    jobsPerPage = 2;
    tasksPerJob = 700;
    const page = `engine(id: "${ENGINE}") { jobs(first: 2) { nodes { tasks { order status type timedOut } } } }`;
    const response = await gateway.gql(`{ ${aliases(page, 8)} }`);
    expectBounded(response, 7);
    const data = response.body.data as Record<string, { jobs: { nodes: Array<{ tasks: unknown[] }> } } | null>;
    expect(data.c0!.jobs.nodes.map((job) => job.tasks.length)).toEqual([700, 700]);
    expect(Object.values(data).filter((engine) => engine === null)).toHaveLength(7);
    expect(upstream.calls).toHaveLength(1);
  });
});
