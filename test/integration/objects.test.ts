import { SEED } from '@cse-jobs-gateway/simulator';
import { errorCodes, startHarness, type Harness } from '../support/harness';
import { rawJobs } from '../support/upstream';

/** Engines, jobs and tasks as the gateway shows them: typed enums, ISO times, exact ids. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.simulator.reset();
});

const JOB_FIELDS = `
  id engineId type description status scheduling createUser startTime endTime durationMs context
  tasks { id jobId type assigned name engineName order status startTime endTime createTime updateTime
          timedOut log output executor { durationMs description } }`;

it('answers an engine by id with mapped fields', async () => {
  const response = await h.gql(
    `query ($id: ID!) { engine(id: $id) { id name description type status flavor version latestVersion
       authType createUser createTime enterpriseProjectId latestJob { id } } }`,
    { id: SEED.engines.big },
  );
  expect(response.body.errors).toBeUndefined();
  const engine = response.body.data.engine;
  expect(engine.id).toBe(SEED.engines.big);
  expect(engine.status).toMatch(/^[A-Z_]+$/);
  expect(engine.createTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const newest = (await rawJobs(h.simulator, SEED.engines.big))[0]!;
  expect(engine.latestJob).toEqual({ id: String(newest.id) });
});

it('answers null, without an error, for an engine or job that does not exist', async () => {
  const response = await h.gql(
    `query ($gone: ID!, $big: ID!) {
      missing: engine(id: "00000000-0000-4000-8000-00000000dead") { id }
      gone: engine(id: $gone) { id }
      noJob: job(engineId: $big, id: "999999999") { id }
      noEngine: job(engineId: "00000000-0000-4000-8000-00000000dead", id: "1") { id }
    }`,
    { gone: SEED.engines.gone, big: SEED.engines.big },
  );
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data).toEqual({ missing: null, gone: null, noJob: null, noEngine: null });
});

it('refuses ids that cannot exist with BAD_USER_INPUT and no upstream call', async () => {
  const response = await h.gql(
    `{ a: job(engineId: "x", id: "12a") { id } b: engine(id: "../engines") { id } }`,
  );
  expect(errorCodes(response).sort()).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT']);
  expect(h.simulator.calls).toHaveLength(0);
});

describe('the drift engine: enum drift, phases, out-of-order tasks, huge ids', () => {
  let listed: any[];
  beforeEach(async () => {
    const response = await h.gql(
      `query ($id: ID!) { engine(id: $id) { status jobs(first: 20) { nodes { ${JOB_FIELDS} } } } }`,
      { id: SEED.engines.drift },
    );
    expect(response.body.errors).toBeUndefined();
    listed = response.body.data.engine.jobs.nodes;
  });

  it('maps every documented spelling and turns undocumented values into UNKNOWN, without errors', async () => {
    const raw = await rawJobs(h.simulator, SEED.engines.drift);
    const byId = new Map(listed.map((job) => [job.id, job]));
    for (const job of raw) {
      const mapped = byId.get(String(job.id));
      const expectedType = { Create: 'CREATE', Delete: 'DELETE', Updated: 'UPDATED', Update: 'UPDATED', Upgrade: 'UPGRADE', Configure: 'CONFIGURE', Modify: 'MODIFY' }[job.type as string] ?? 'UNKNOWN';
      const expectedStatus = { PreInit: 'PRE_INIT', Init: 'INIT', Executing: 'EXECUTING', Error: 'ERROR', Timeout: 'TIMEOUT', Finished: 'FINISHED' }[job.status as string] ?? 'UNKNOWN';
      expect([mapped.type, mapped.status]).toEqual([expectedType, expectedStatus]);
    }
    expect(listed.map((job) => job.type)).toEqual(expect.arrayContaining(['UPDATED', 'UNKNOWN']));
    expect(listed.map((job) => job.status)).toEqual(expect.arrayContaining(['PRE_INIT', 'UNKNOWN']));
  });

  it('sorts tasks by order and keeps task ids beyond 2^53 exact', () => {
    for (const job of listed) {
      const orders = job.tasks.map((task: { order: number }) => task.order);
      expect(orders).toEqual([...orders].sort((a, b) => a - b));
      for (const task of job.tasks) {
        expect(task.id).toMatch(/^\d+$/);
        expect(task.jobId).toBe(job.id);
      }
    }
    expect(listed.flatMap((job) => job.tasks.map((task: { id: string }) => task.id))).toContain('9007199254740993');
  });

  it('derives times, duration, scheduling, timedOut and output as documented', () => {
    for (const job of listed) {
      if (job.startTime !== null && job.endTime !== null) {
        expect(job.durationMs).toBe(Date.parse(job.endTime) - Date.parse(job.startTime));
      } else {
        expect(job.durationMs).toBeNull();
      }
    }
    const running = listed.find((job) => job.endTime === null);
    expect(running).toMatchObject({ scheduling: true, durationMs: null });
    const tasks = listed.flatMap((job) => job.tasks);
    expect(tasks.some((task) => task.timedOut === true)).toBe(true);
    expect(tasks.some((task) => typeof task.output === 'string')).toBe(true);
    expect(tasks.some((task) => typeof task.output === 'object' && task.output !== null)).toBe(true);
  });

  it('flattens phase-shaped job details so job(...) and the list give the same tasks', async () => {
    for (const job of listed) {
      const response = await h.gql(
        `query ($engine: ID!, $id: ID!) { job(engineId: $engine, id: $id) { ${JOB_FIELDS} } }`,
        { engine: SEED.engines.drift, id: job.id },
      );
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data.job).toEqual(job);
    }
    expect(h.simulator.callCount({ route: 'getJob' })).toBe(listed.length);
  });
});
