import fc from 'fast-check';
import { SEED, startSimulator, type Simulator } from '../src';
import { allJobs, api, call, parseExact, withQuery } from './support';
import { byTaskOrder, expectJobInvariants, observeConsistent, taskStatuses, TERMINAL } from './jobInvariants';

const { engines } = SEED;

describe('simulator job lifecycle', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  it.each([
    ['flat details', engines.onePage],
    ['phase-shaped details', engines.drift],
  ])('walks PreInit → Init → Executing → Finished task by task, with %s agreeing with the list', async (_shape, engineId) => {
    const job = sim.startJob(engineId, { taskCount: 3 });
    const seen: Array<{ status: string; tasks: string[] }> = [];
    let previous = await observeConsistent(sim, engineId, job.id);
    seen.push({ status: previous.status, tasks: taskStatuses(previous) });
    for (let step = 0; step < 5; step++) {
      const returned = sim.advanceJob(engineId, job.id);
      const now = await observeConsistent(sim, engineId, job.id);
      expect(now).toEqual(returned);
      // Each step stamps what it changed later than anything before it.
      const latest = (j: any) => Math.max(j.endTime, ...j.tasks.map((t: any) => t.updateTime));
      expect(latest(now)).toBeGreaterThan(latest(previous));
      expect(now.startTime).toBe(job.startTime);
      previous = now;
      seen.push({ status: now.status, tasks: taskStatuses(now) });
    }
    expect(seen).toEqual([
      { status: 'PreInit', tasks: ['PreInit', 'PreInit', 'PreInit'] },
      { status: 'Init', tasks: ['Init', 'Init', 'Init'] },
      { status: 'Executing', tasks: ['Executing', 'Init', 'Init'] },
      { status: 'Executing', tasks: ['Finished', 'Executing', 'Init'] },
      { status: 'Executing', tasks: ['Finished', 'Finished', 'Executing'] },
      { status: 'Finished', tasks: ['Finished', 'Finished', 'Finished'] },
    ]);
    // Terminal: nothing changes any more, whatever is asked.
    const finalText = (await call(sim, api.job(engineId, job.id))).text;
    expect(sim.advanceJob(engineId, job.id, { steps: 3 })).toEqual(previous);
    expect(sim.advanceJob(engineId, job.id, { to: 'Error' })).toEqual(previous);
    expect(sim.advanceJob(engineId, job.id, { to: 'Init' })).toEqual(previous);
    expect((await call(sim, api.job(engineId, job.id))).text).toBe(finalText);
  });

  it('sets task times as each task moves: start when Executing, end when Finished', () => {
    const { id } = sim.startJob(engines.single, { taskCount: 2 });
    sim.advanceJob(engines.single, id, { to: 'Executing' });
    const executing = sim.advanceJob(engines.single, id);
    const [first, second] = [...(executing.tasks as any[])].sort(byTaskOrder);
    expect(first.endTime).toBe(second.startTime);
    expect(first.updateTime).toBe(first.endTime);
    expect(second.updateTime).toBe(second.startTime);
    expect(first.taskExecutorBrief.duration).toBe(8_000);
    const done = sim.advanceJob(engines.single, id);
    const last = [...(done.tasks as any[])].sort(byTaskOrder)[1];
    expect(done.endTime).toBe(last.endTime);
    expect(last.endTime - last.startTime).toBe(8_000);
  });

  it('moves the drift engine tasks by taskOrder and keeps their array order', async () => {
    const seeded = (await allJobs(sim, engines.drift)).find((job) => job.status === 'Executing');
    const arrayOrder = seeded.tasks.map((task: any) => task.taskOrder);
    expect(arrayOrder).not.toEqual([...arrayOrder].sort());
    expect(taskStatuses(seeded)).toEqual(['Finished', 'Executing', 'Init']);
    sim.advanceJob(engines.drift, seeded.id);
    const after = await observeConsistent(sim, engines.drift, seeded.id);
    expect(taskStatuses(after)).toEqual(['Finished', 'Finished', 'Executing']);
    expect(after.tasks.map((task: any) => task.taskOrder)).toEqual(arrayOrder);
    // The task id beyond 2^53 stays exact through progress.
    expect((await call(sim, api.job(engines.drift, seeded.id))).text).not.toMatch(/"id":"/);
  });

  it('advances seeded running jobs from where they are (Init on max-page, Executing on big)', async () => {
    const [initJob] = (await call(sim, withQuery(api.jobs(engines.maxPage), { limit: 1 }))).json().data;
    expect(initJob.status).toBe('Init');
    expect(sim.advanceJob(engines.maxPage, initJob.id).status).toBe('Executing');
    await observeConsistent(sim, engines.maxPage, initJob.id);
    const [executing] = (await call(sim, withQuery(api.jobs(engines.big), { limit: 1 }))).json().data;
    expect(sim.advanceJob(engines.big, executing.id, { to: 'Finished' }).status).toBe('Finished');
    await observeConsistent(sim, engines.big, executing.id);
  });
});

describe('simulator startJob', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  it('adds one PreInit job at the head, newest and with the largest id, and updates latestJobId', async () => {
    const before = await allJobs(sim, engines.onePage);
    const job = sim.startJob(engines.onePage);
    expect(job).toMatchObject({ engineId: engines.onePage, status: 'PreInit', scheduling: 0, endTime: 0, type: 'Configure', description: '' });
    expect(job.tasks).toHaveLength(3);
    expect((job.tasks as any[]).map((task) => [task.taskOrder, task.status, task.startTime, task.endTime])).toEqual([
      [0, 'PreInit', 0, 0],
      [1, 'PreInit', 0, 0],
      [2, 'PreInit', 0, 0],
    ]);
    expect(job.startTime).toBeGreaterThan(before[0].startTime);

    const after = await allJobs(sim, engines.onePage);
    expect(after).toEqual([job, ...before]);
    expect((await call(sim, api.engine(engines.onePage))).json().latestJobId).toBe(job.id);
    const listed = (await call(sim, withQuery(api.engines(), { limit: 100 }))).json().data.find((e: any) => e.id === engines.onePage);
    expect(listed.latestJobId).toBe(job.id);

    const next = sim.startJob(engines.empty);
    expect(Number(next.id)).toBeGreaterThan(Number(job.id));
    expect(next.startTime).toBeGreaterThan(job.startTime as number);
    expect((await call(sim, api.engine(engines.empty))).json().latestJobId).toBe(next.id);
  });

  it('stays at the head even after a job added with a startTime in the future', async () => {
    const [future] = sim.addJobs(engines.single, 1, { startTime: 1_900_000_000_000 });
    const started = sim.startJob(engines.single);
    expect(started.startTime).toBeGreaterThan(future?.startTime as number);
    const list = await allJobs(sim, engines.single);
    expect(list.map((job) => job.id)).toEqual([started.id, future?.id, expect.any(Number)]);
  });

  it('applies its options', async () => {
    const job = sim.startJob(engines.single, { taskCount: 1, type: 'Upgrade', description: 'to 2.6.3', context: '{"to":"2.6.3"}', createUser: 'ops' });
    expect(job).toMatchObject({ type: 'Upgrade', description: 'to 2.6.3', context: '{"to":"2.6.3"}', createUser: 'ops' });
    expect(job.tasks).toHaveLength(1);
    expect((await call(sim, api.job(engines.single, job.id))).json()).toEqual(job);
  });

  it('refuses unknown engines and bad options, naming what was wrong', () => {
    expect(() => sim.startJob('no-such-engine')).toThrow(/startJob: no live engine with id "no-such-engine"/);
    expect(() => sim.startJob(engines.gone)).toThrow(/no live engine/);
    for (const taskCount of [0, -1, 1.5, 10_001, Number.NaN]) {
      expect(() => sim.startJob(engines.single, { taskCount })).toThrow(RangeError);
    }
    expect(() => sim.startJob(engines.single, { taskCount: '3' as unknown as number })).toThrow(/taskCount must be an integer/);
    expect(() => sim.startJob(engines.single, { type: 5 as unknown as string })).toThrow(/type must be a string/);
    expect(() => sim.startJob(engines.single, { status: 'Executing' } as never)).toThrow(/unknown option "status"/);
    expect(sim.startJob(engines.single, { taskCount: 10_000 }).tasks).toHaveLength(10_000);
  });

  it('is deterministic: the same calls after reset give the same answers', () => {
    const run = () => {
      const job = sim.startJob(engines.drift, { taskCount: 2 });
      return [job, sim.advanceJob(engines.drift, job.id, { steps: 3 }), sim.startJob(engines.big)];
    };
    const first = run();
    sim.reset();
    expect(run()).toEqual(first);
  });

  it('leaves the seed as it was after reset', async () => {
    const pristine = (await call(sim, withQuery(api.jobs(engines.drift), { limit: 100 }))).text;
    const job = sim.startJob(engines.drift);
    sim.advanceJob(engines.drift, job.id, { to: 'Finished' });
    const [seeded] = (await call(sim, withQuery(api.jobs(engines.big), { limit: 1 }))).json().data;
    sim.advanceJob(engines.big, seeded.id, { to: 'Error' });
    sim.reset();
    expect((await call(sim, withQuery(api.jobs(engines.drift), { limit: 100 }))).text).toBe(pristine);
    expect((await call(sim, api.job(engines.big, seeded.id))).json().status).toBe('Executing');
  });
});

describe('simulator advanceJob', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  it('moves several steps at once, and stops at Finished', () => {
    const { id } = sim.startJob(engines.single, { taskCount: 3 });
    const executing = sim.advanceJob(engines.single, id, { steps: 3 });
    expect([executing.status, taskStatuses(executing)]).toEqual(['Executing', ['Finished', 'Executing', 'Init']]);
    expectJobInvariants(executing);
    const finished = sim.advanceJob(engines.single, id, { steps: Number.MAX_SAFE_INTEGER });
    expect(finished.status).toBe('Finished');
    expectJobInvariants(finished);
  });

  it('goes straight to a status, task by task; to the status it has is a no-op', () => {
    const { id } = sim.startJob(engines.single, { taskCount: 4 });
    expect(sim.advanceJob(engines.single, id, { to: 'Init' }).status).toBe('Init');
    const executing = sim.advanceJob(engines.single, id, { to: 'Executing' });
    expect(taskStatuses(executing)).toEqual(['Executing', 'Init', 'Init', 'Init']);
    expect(sim.advanceJob(engines.single, id, { to: 'Executing' })).toEqual(executing);
    const finished = sim.advanceJob(engines.single, id, { to: 'Finished' });
    expectJobInvariants(finished);
    const tasks = [...(finished.tasks as any[])].sort(byTaskOrder);
    // Each task ran in its own step, one after the other.
    expect(new Set(tasks.map((task) => task.startTime)).size).toBe(4);
    expect(tasks.every((task) => task.endTime - task.startTime === 8_000)).toBe(true);
  });

  it('refuses to go back, naming the job and both statuses', () => {
    const { id } = sim.startJob(engines.single);
    sim.advanceJob(engines.single, id, { to: 'Executing' });
    expect(() => sim.advanceJob(engines.single, id, { to: 'Init' })).toThrow(new RegExp(`job ${id} is Executing: it cannot go to Init`));
    expect(sim.advanceJob(engines.single, id, { steps: 1 }).status).toBe('Executing');
  });

  it.each(['Error', 'Timeout'] as const)('ends a job in %s at the task it is at; later tasks never start', (status) => {
    const { id } = sim.startJob(engines.onePage, { taskCount: 3 });
    sim.advanceJob(engines.onePage, id, { steps: 3 });
    const ended = sim.advanceJob(engines.onePage, id, { to: status });
    expectJobInvariants(ended);
    expect([ended.status, ended.scheduling, taskStatuses(ended)]).toEqual([status, 0, ['Finished', status, 'Init']]);
    const failed = (ended.tasks as any[]).find((task) => task.status === status);
    expect(failed.timeout).toBe(status === 'Timeout' ? 1 : -1);
    expect(ended.endTime).toBe(failed.endTime);
    expect(sim.advanceJob(engines.onePage, id, { to: 'Finished' })).toEqual(ended);
  });

  it('ends a job that has not started yet at its first task', async () => {
    const { id } = sim.startJob(engines.drift, { taskCount: 2 });
    const ended = sim.advanceJob(engines.drift, id, { to: 'Timeout' });
    expect(taskStatuses(ended)).toEqual(['Timeout', 'PreInit']);
    const first = [...(ended.tasks as any[])].sort(byTaskOrder)[0];
    expect(first.startTime).toBe(first.endTime);
    await observeConsistent(sim, engines.drift, id);
  });

  it('refuses bad options, unknown engines and jobs, and statuses outside the lifecycle', async () => {
    const { id } = sim.startJob(engines.single);
    expect(() => sim.advanceJob(engines.single, id, { steps: 2, to: 'Finished' })).toThrow(/steps or to, not both/);
    for (const steps of [0, -1, 1.5]) expect(() => sim.advanceJob(engines.single, id, { steps })).toThrow(RangeError);
    expect(() => sim.advanceJob(engines.single, id, { to: 'Suspended' as never })).toThrow(/to must be one of Init, Executing, Finished, Error, Timeout/);
    expect(() => sim.advanceJob(engines.single, id, { step: 2 } as never)).toThrow(/unknown option "step"/);
    expect(() => sim.advanceJob('no-such-engine', id)).toThrow(/advanceJob: no live engine/);
    expect(() => sim.advanceJob(engines.single, 99_999_999)).toThrow(/advanceJob: engine "\S+" has no job 99999999/);
    expect(() => sim.advanceJob(engines.onePage, id)).toThrow(/has no job/);
    expect(() => sim.advanceJob(engines.single, 'abc')).toThrow(/has no job "abc"/);
    // Ids as strings work too, as the gateway's parser may hand them over.
    expect(sim.advanceJob(engines.single, String(id)).status).toBe('Init');
    const suspended = (await allJobs(sim, engines.drift)).find((job) => job.status === 'Suspended');
    expect(() => sim.advanceJob(engines.drift, suspended.id)).toThrow(/is Suspended, a status outside the lifecycle/);
  });

  it('keeps the invariants through any sequence of controls (property)', async () => {
    const command = fc.oneof(
      fc.record({ kind: fc.constant('steps' as const), steps: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('to' as const), to: fc.constantFrom('Init', 'Executing', 'Finished', 'Error', 'Timeout' as const) }),
      fc.record({ kind: fc.constant('update' as const), description: fc.string({ maxLength: 8 }) }),
    );
    const rank: Record<string, number> = { PreInit: 0, Init: 1, Executing: 2, Finished: 3, Error: 3, Timeout: 3 };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(engines.single, engines.drift),
        fc.integer({ min: 1, max: 5 }),
        fc.array(command, { maxLength: 12 }),
        async (engineId, taskCount, commands) => {
          sim.reset();
          let job: any = sim.startJob(engineId, { taskCount });
          for (const c of commands) {
            const before = job;
            const wasTerminal = TERMINAL.includes(before.status);
            if (c.kind === 'update') {
              job = sim.updateJob(engineId, job.id, { description: c.description });
              expect({ ...job, description: before.description }).toEqual(before);
              continue;
            }
            const run = () => sim.advanceJob(engineId, job.id, c.kind === 'to' ? { to: c.to } : { steps: c.steps });
            if (c.kind === 'to' && !wasTerminal && rank[c.to]! < rank[before.status]!) {
              expect(run).toThrow(/cannot go to/);
              continue;
            }
            job = run();
            expectJobInvariants(job);
            if (wasTerminal) expect(job).toEqual(before);
            else if (c.kind === 'to') expect(job.status).toBe(c.to);
            else {
              // A step on a running job always shows, and never goes back.
              expect(job).not.toEqual(before);
              expect(rank[job.status]).toBeGreaterThanOrEqual(rank[before.status]!);
            }
          }
          const seen = await observeConsistent(sim, engineId, job.id);
          expect(seen).toEqual(parseExact(JSON.stringify(job)));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('simulator updateJob', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  it('changes plain fields, seen by the list and the details, and nothing else', async () => {
    const job = sim.startJob(engines.drift);
    const before = await observeConsistent(sim, engines.drift, job.id);
    const updated = sim.updateJob(engines.drift, job.id, { description: 'renamed', context: '{"retry":1}' });
    expect(updated).toEqual({ ...job, description: 'renamed', context: '{"retry":1}' });
    const after = await observeConsistent(sim, engines.drift, job.id);
    expect(after).toEqual({ ...before, description: 'renamed', context: '{"retry":1}' });
    expect(sim.updateJob(engines.drift, job.id, { description: null, type: 'Rollback', createUser: 'ops' })).toMatchObject({
      description: null,
      type: 'Rollback',
      createUser: 'ops',
    });
  });

  it('works on terminal jobs too, the one way to change them', async () => {
    const [finished] = (await call(sim, withQuery(api.jobs(engines.single), { limit: 1 }))).json().data;
    expect(finished.status).toBe('Finished');
    sim.updateJob(engines.single, finished.id, { description: 'edited after the fact' });
    expect((await call(sim, api.job(engines.single, finished.id))).json()).toEqual({ ...finished, description: 'edited after the fact' });
  });

  it('refuses lifecycle fields, unknown fields and non-strings', () => {
    const { id } = sim.startJob(engines.single);
    expect(() => sim.updateJob(engines.single, id, { status: 'Finished' } as never)).toThrow(/status cannot be patched: advance the job instead/);
    for (const field of ['scheduling', 'endTime', 'startTime', 'tasks', 'id', 'engineId']) {
      expect(() => sim.updateJob(engines.single, id, { [field]: 1 } as never)).toThrow(new RegExp(`${field} cannot be patched`));
    }
    expect(() => sim.updateJob(engines.single, id, { colour: 'red' } as never)).toThrow(/unknown field "colour"/);
    expect(() => sim.updateJob(engines.single, id, { description: 5 } as never)).toThrow(/description must be a string or null/);
    expect(() => sim.updateJob(engines.single, 99_999_999, { description: 'x' })).toThrow(/has no job/);
    expect(sim.advanceJob(engines.single, id).status).toBe('Init');
  });
});
