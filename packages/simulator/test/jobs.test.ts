import { OTHER_PROJECT_ID, OTHER_TOKEN, SEED, startSimulator, type Simulator } from '../src';
import { allJobs, api, call, expectCseError, parseExact, withQuery } from './support';

const { engines } = SEED;

function jobIds(body: { data: Array<{ id: number }> }): number[] {
  return body.data.map((job) => job.id);
}

describe('simulator job list', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  it('holds the seeded number of jobs in every engine', async () => {
    expect(SEED.jobCounts).toMatchObject({
      [engines.empty]: 0,
      [engines.single]: 1,
      [engines.onePage]: 20,
      [engines.onePagePlusOne]: 21,
      [engines.maxPage]: 100,
      [engines.big]: 350,
      [engines.drift]: 7,
      [engines.other]: 3,
    });
    expect(SEED.jobCounts).not.toHaveProperty(engines.gone);
    for (const [engineId, count] of Object.entries(SEED.jobCounts)) {
      const other = engineId.startsWith('b');
      const res = await call(sim, api.jobs(engineId, other ? OTHER_PROJECT_ID : undefined), other ? { token: OTHER_TOKEN } : {});
      expect(res.status).toBe(200);
      expect(res.json().total).toBe(count);
    }
  });

  it('gives filler engines 0 to 5 jobs', () => {
    const named = new Set(Object.values(engines));
    const fillers = Object.entries(SEED.jobCounts).filter(([id]) => !named.has(id) && !id.startsWith('b'));
    expect(fillers).toHaveLength(23);
    for (const [, count] of fillers) expect(count).toBeGreaterThanOrEqual(0);
    for (const [, count] of fillers) expect(count).toBeLessThanOrEqual(5);
  });

  it('pages by 1-based page number; offset 0 means page 1', async () => {
    const engine = engines.onePagePlusOne;
    const page1 = (await call(sim, withQuery(api.jobs(engine), { offset: 1, limit: 20 }))).json();
    const page0 = (await call(sim, withQuery(api.jobs(engine), { offset: 0, limit: 20 }))).json();
    const noOffset = (await call(sim, withQuery(api.jobs(engine), { limit: 20 }))).json();
    const page2 = (await call(sim, withQuery(api.jobs(engine), { offset: 2, limit: 20 }))).json();
    const page3 = (await call(sim, withQuery(api.jobs(engine), { offset: 3, limit: 20 }))).json();
    expect(page1.data).toHaveLength(20);
    expect(page0).toEqual(page1);
    expect(noOffset).toEqual(page1);
    expect(page2.data).toHaveLength(1);
    expect(page3).toEqual({ total: 21, data: [] });
    for (const body of [page1, page2]) expect(body.total).toBe(21);
    expect(new Set([...jobIds(page1), ...jobIds(page2)]).size).toBe(21);
  });

  it('uses a page size of 10 when limit is missing', async () => {
    const body = (await call(sim, api.jobs(engines.onePage))).json();
    expect(body.total).toBe(20);
    expect(body.data).toHaveLength(10);
    const second = (await call(sim, withQuery(api.jobs(engines.onePage), { offset: 2 }))).json();
    expect(jobIds(second)).toEqual((await allJobs(sim, engines.onePage)).slice(10, 20).map((job) => job.id));
  });

  it('returns page n of size L as items [(n-1)L, nL)', async () => {
    const every = await allJobs(sim, engines.maxPage);
    expect(every).toHaveLength(100);
    for (const [offset, limit] of [
      [1, 7],
      [3, 7],
      [15, 7],
      [2, 33],
      [4, 33],
      [1, 100],
    ] as const) {
      const body = parseExact((await call(sim, withQuery(api.jobs(engines.maxPage), { offset, limit }))).text);
      expect(body.total).toBe(100);
      expect(body.data).toEqual(every.slice((offset - 1) * limit, offset * limit));
    }
  });

  it('accepts limit 100 and refuses larger, zero and non-numeric paging values', async () => {
    expect((await call(sim, withQuery(api.jobs(engines.big), { limit: 100 }))).json().data).toHaveLength(100);
    const invalid: Array<Record<string, string | number>> = [
      { limit: 101 },
      { limit: 0 },
      { limit: 'ten' },
      { offset: 'first' },
      { offset: -1 },
      { limit: 1.5 },
    ];
    for (const query of invalid) {
      expectCseError(await call(sim, withQuery(api.jobs(engines.big), query)), 400, 'SVCSTG.00500400');
    }
  });

  it('orders jobs newest first, by startTime then id', async () => {
    const every = await allJobs(sim, engines.big);
    expect(every).toHaveLength(350);
    expect(new Set(every.map((job) => job.id)).size).toBe(350);
    let ties = 0;
    for (let i = 1; i < every.length; i++) {
      const [newer, older] = [every[i - 1], every[i]];
      expect(newer.startTime).toBeGreaterThanOrEqual(older.startTime);
      if (newer.startTime === older.startTime) {
        ties++;
        expect(newer.id).toBeGreaterThan(older.id);
      }
    }
    // The seed has one deliberate tie, to exercise the id tie-break.
    expect(ties).toBe(1);
  });

  it('filters by from-time and to-time, both inclusive, and counts the filtered jobs', async () => {
    const every = await allJobs(sim, engines.onePage);
    const from = every[15].startTime;
    const to = every[5].startTime;
    const both = (await call(sim, withQuery(api.jobs(engines.onePage), { 'from-time': from, 'to-time': to, limit: 100 }))).json();
    expect(both.total).toBe(11);
    expect(both.data).toEqual(every.slice(5, 16));
    const fromOnly = (await call(sim, withQuery(api.jobs(engines.onePage), { 'from-time': from, limit: 100 }))).json();
    expect(fromOnly.data).toEqual(every.slice(0, 16));
    const toOnly = (await call(sim, withQuery(api.jobs(engines.onePage), { 'to-time': to, limit: 3 }))).json();
    expect(toOnly.total).toBe(15);
    expect(toOnly.data).toEqual(every.slice(5, 8));
    const exact = (await call(sim, withQuery(api.jobs(engines.onePage), { 'from-time': to, 'to-time': to }))).json();
    expect(exact.data).toEqual([every[5]]);
    const inverted = (await call(sim, withQuery(api.jobs(engines.onePage), { 'from-time': to, 'to-time': from }))).json();
    expect(inverted).toEqual({ total: 0, data: [] });
  });

  it('refuses non-numeric time bounds', async () => {
    expectCseError(await call(sim, withQuery(api.jobs(engines.onePage), { 'from-time': '2024-01-01' })), 400, 'SVCSTG.00500400');
    expectCseError(await call(sim, withQuery(api.jobs(engines.onePage), { 'to-time': 'now' })), 400, 'SVCSTG.00500400');
  });

  it('gives every job integer ids unique across engines and 1 to 3 tasks with ids above 2^31', async () => {
    const seen = new Set<number>();
    for (const engineId of [engines.single, engines.onePage, engines.big, engines.drift]) {
      for (const job of await allJobs(sim, engineId)) {
        expect(Number.isInteger(job.id)).toBe(true);
        expect(seen.has(job.id)).toBe(false);
        seen.add(job.id);
        expect(job.engineId).toBe(engineId);
        expect(job.tasks.length).toBeGreaterThanOrEqual(1);
        expect(job.tasks.length).toBeLessThanOrEqual(3);
        for (const task of job.tasks) {
          expect(task.jobId).toBe(job.id);
          expect(BigInt(task.id)).toBeGreaterThan(2n ** 31n);
        }
      }
    }
  });

  it('answers an unknown engine with 400 SVCSTG.00501116 and the gone engine with 400 SVCSTG.00501125', async () => {
    expectCseError(await call(sim, api.jobs('no-such-engine')), 400, 'SVCSTG.00501116');
    expectCseError(await call(sim, api.jobs(engines.gone)), 400, 'SVCSTG.00501125');
  });

  it('answers an empty engine with an empty page', async () => {
    expect((await call(sim, api.jobs(engines.empty))).json()).toEqual({ total: 0, data: [] });
  });
});

describe('simulator drift engine', () => {
  let sim: Simulator;
  let jobs: any[];
  let rawList: string;
  beforeAll(async () => {
    sim = await startSimulator();
    const res = await call(sim, withQuery(api.jobs(engines.drift), { limit: 100 }));
    rawList = res.text;
    jobs = parseExact(res.text).data;
  });
  afterAll(() => sim.close());

  it('writes the task id 2^53+1 as an exact JSON integer literal', async () => {
    expect(rawList).toMatch(/"id":9007199254740993[,}]/);
    const owner = jobs.find((job) => job.tasks.some((task: any) => task.id === 9007199254740993n));
    expect(owner).toBeDefined();
    const details = await call(sim, api.job(engines.drift, owner.id));
    expect(details.text).toMatch(/"id":9007199254740993[,}]/);
  });

  it('keeps ordinary ids as plain numbers', () => {
    expect(rawList).toMatch(/"id":\d{5},"engineId"/);
    expect(rawList).not.toMatch(/"id":"/);
  });

  it('shows enum drift in job types and statuses', () => {
    const types = new Set(jobs.map((job) => job.type));
    const statuses = new Set(jobs.map((job) => job.status));
    for (const type of ['Update', 'Updated', 'Rollback']) expect(types).toContain(type);
    for (const status of ['PreInit', 'Suspended']) expect(statuses).toContain(status);
  });

  it('lists tasks out of taskOrder, with a timed-out task and a non-JSON output', () => {
    const tasks = jobs.flatMap((job) => job.tasks);
    expect(jobs.some((job) => job.tasks.some((task: any, i: number) => i > 0 && task.taskOrder < job.tasks[i - 1].taskOrder))).toBe(true);
    expect(tasks.filter((task) => task.timeout === 1)).toHaveLength(1);
    const notJson = tasks.filter((task) => {
      try {
        JSON.parse(task.output);
        return false;
      } catch {
        return true;
      }
    });
    expect(notJson).toHaveLength(1);
  });

  it('has a running job with endTime 0 and scheduling 1, which is the newest', async () => {
    const running = jobs.filter((job) => job.scheduling === 1);
    expect(running).toHaveLength(1);
    expect(running[0].endTime).toBe(0);
    expect(running[0].status).toBe('Executing');
    const engine = (await call(sim, api.engine(engines.drift))).json();
    expect(engine.latestJobId).toBe(running[0].id);
  });

  it('answers job details in phase shape, holding the same tasks as the list', async () => {
    const byOrder = (a: any, b: any) => a.taskOrder - b.taskOrder;
    for (const job of jobs) {
      const res = await call(sim, api.job(engines.drift, job.id));
      expect(res.status).toBe(200);
      const details = parseExact(res.text);
      expect(details.tasks).toHaveLength(2);
      for (const phase of details.tasks) {
        expect(phase).toEqual({
          taskName: expect.any(String),
          taskNames: expect.any(Array),
          status: expect.any(String),
          startTime: expect.any(Number),
          endTime: expect.any(Number),
          taskExecutorBrief: { duration: expect.any(Number), description: expect.any(String) },
          tasks: expect.any(Array),
        });
        expect(phase.taskNames).toEqual([...phase.tasks].sort(byOrder).map((task: any) => task.taskName));
      }
      const flattened = details.tasks.flatMap((phase: any) => phase.tasks);
      expect([...flattened].sort(byOrder)).toEqual([...job.tasks].sort(byOrder));
      const { tasks: _detailTasks, ...detailFields } = details;
      const { tasks: _listTasks, ...listFields } = job;
      expect(detailFields).toEqual(listFields);
    }
  });
});

describe('simulator job details', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  it('answers other engines with the same flat shape as the list item', async () => {
    for (const engineId of [engines.single, engines.big]) {
      const list = await call(sim, withQuery(api.jobs(engineId), { limit: 3 }));
      for (const job of list.json().data) {
        const details = await call(sim, api.job(engineId, job.id));
        expect(details.status).toBe(200);
        expect(details.json()).toEqual(job);
      }
    }
  });

  it('reads job ids as integers (leading zeros allowed)', async () => {
    const [job] = (await call(sim, api.jobs(engines.single))).json().data;
    expect((await call(sim, api.job(engines.single, `00${job.id}`))).json().id).toBe(job.id);
  });

  it('answers a missing job with 400 SVCSTG.00501153, also for a job of another engine', async () => {
    expectCseError(await call(sim, api.job(engines.single, 99999999)), 400, 'SVCSTG.00501153');
    const [otherJob] = (await call(sim, api.jobs(engines.onePage))).json().data;
    expectCseError(await call(sim, api.job(engines.single, otherJob.id)), 400, 'SVCSTG.00501153');
    expectCseError(await call(sim, api.job(engines.single, '99999999999999999999999')), 400, 'SVCSTG.00501153');
  });

  it('answers a non-numeric job id with 400 SVCSTG.00501152', async () => {
    for (const id of ['abc', '12a', '-5', '1.0']) {
      expectCseError(await call(sim, api.job(engines.single, id)), 400, 'SVCSTG.00501152');
    }
  });

  it('checks the engine before the job id', async () => {
    expectCseError(await call(sim, api.job('no-such-engine', 'abc')), 400, 'SVCSTG.00501116');
    expectCseError(await call(sim, api.job(engines.gone, 10001)), 400, 'SVCSTG.00501125');
  });

  it('answers paths beyond the four endpoints with an empty 404', async () => {
    for (const path of [`${api.job(engines.single, 1)}/tasks`, `${api.jobs(engines.single)}/`, `${api.engines()}/`, '/v2//enginemgr/engines']) {
      const res = await call(sim, path);
      expect(res.status).toBe(404);
      expect(res.text).toBe('');
      expect(res.headers.get('x-request-id')).toBeTruthy();
    }
    expect((await call(sim, api.engines(), { method: 'POST', body: '{}' })).status).toBe(404);
  });
});
