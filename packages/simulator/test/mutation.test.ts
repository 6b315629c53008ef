import { SEED, startSimulator, type Simulator } from '../src';
import { allJobs, api, call, withQuery } from './support';

const { engines } = SEED;

describe('simulator addJobs and reset', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  it('adds jobs at the head, newer and with larger ids than every existing job', async () => {
    const before = await allJobs(sim, engines.onePage);
    const maxId = Math.max(...(await allJobs(sim, engines.big)).map((job) => job.id), ...before.map((job) => job.id));
    const added = sim.addJobs(engines.onePage, 2);
    expect(added).toHaveLength(2);
    const [newest, second] = added;
    expect(Number(second?.id)).toBeGreaterThan(maxId);
    expect(Number(newest?.id)).toBeGreaterThan(Number(second?.id));
    expect(second?.startTime).toBeGreaterThan(before[0].startTime);
    expect(newest?.engineId).toBe(engines.onePage);

    const after = await allJobs(sim, engines.onePage);
    expect(after).toHaveLength(22);
    expect(after.slice(0, 2)).toEqual(added);
    expect(after.slice(2)).toEqual(before);
    const firstPage = (await call(sim, withQuery(api.jobs(engines.onePage), { limit: 20 }))).json();
    expect(firstPage.total).toBe(22);
    expect(firstPage.data[2]).toEqual(before[0]);
    const secondPage = (await call(sim, withQuery(api.jobs(engines.onePage), { offset: 2, limit: 20 }))).json();
    expect(secondPage.data).toEqual(before.slice(18));
  });

  it('updates latestJobId in the details and the list', async () => {
    const [job] = sim.addJobs(engines.empty, 1);
    expect((await call(sim, api.engine(engines.empty))).json().latestJobId).toBe(job?.id);
    const listed = (await call(sim, withQuery(api.engines(), { limit: 100 }))).json().data.find((engine: any) => engine.id === engines.empty);
    expect(listed.latestJobId).toBe(job?.id);
  });

  it('serves added jobs through job details and keeps ids monotonic across engines', async () => {
    const [a] = sim.addJobs(engines.single, 1);
    const [b] = sim.addJobs(engines.big, 1, { status: 'Executing', type: 'Upgrade' });
    expect(Number(b?.id)).toBeGreaterThan(Number(a?.id));
    expect(b?.startTime).toBeGreaterThan(a?.startTime ?? Infinity);
    const details = (await call(sim, api.job(engines.big, String(b?.id)))).json();
    expect(details).toMatchObject({ status: 'Executing', type: 'Upgrade', scheduling: 1, endTime: 0 });
    expect(details).toEqual(b);
  });

  it('applies overrides, including tasks and a startTime', async () => {
    const [job] = sim.addJobs(engines.onePage, 1, {
      description: 'custom',
      tasks: [{ id: '9007199254740995', taskName: 'Custom', taskOrder: 0 }],
    });
    expect(job?.tasks).toEqual([{ id: '9007199254740995', jobId: job?.id, taskName: 'Custom', taskOrder: 0 }]);
    const res = await call(sim, api.job(engines.onePage, String(job?.id)));
    expect(res.text).toContain('"id":9007199254740995');
    expect(res.json().description).toBe('custom');

    const oldest = (await allJobs(sim, engines.single)).at(-1);
    const [backdated] = sim.addJobs(engines.single, 1, { startTime: oldest.startTime - 1 });
    expect((await allJobs(sim, engines.single)).at(-1).id).toBe(backdated?.id);
  });

  it('gives drift jobs phase-shaped details with both phases', async () => {
    const [job] = sim.addJobs(engines.drift, 1);
    const details = (await call(sim, api.job(engines.drift, String(job?.id)))).json();
    expect(details.tasks).toHaveLength(2);
  });

  it('refuses what would break its invariants', () => {
    expect(() => sim.addJobs('no-such-engine', 1)).toThrow(/no live engine/);
    expect(() => sim.addJobs(engines.gone, 1)).toThrow(/no live engine/);
    expect(() => sim.addJobs(engines.single, -1)).toThrow(RangeError);
    expect(() => sim.addJobs(engines.single, 1.5)).toThrow(RangeError);
    expect(() => sim.addJobs(engines.single, 1, { id: 5 })).toThrow(TypeError);
    expect(sim.addJobs(engines.single, 0)).toEqual([]);
  });

  it('is deterministic: the same sequence after reset gives the same jobs', () => {
    const first = sim.addJobs(engines.onePage, 3);
    sim.reset();
    expect(sim.addJobs(engines.onePage, 3)).toEqual(first);
  });

  it('reset restores the seed and clears faults and calls', async () => {
    sim.addJobs(engines.onePage, 5);
    sim.injectFault({ route: 'getEngine', status: 500 });
    await call(sim, api.engines());
    expect(sim.callCount()).toBe(1);
    sim.reset();
    expect(sim.callCount()).toBe(0);
    expect((await call(sim, api.jobs(engines.onePage))).json().total).toBe(20);
    expect((await call(sim, api.engine(engines.onePage))).status).toBe(200);
  });

  it('does not let a caller mutate the store through returned jobs', async () => {
    const [job] = sim.addJobs(engines.single, 1);
    if (job) job.status = 'Tampered';
    expect((await call(sim, api.job(engines.single, String(job?.id)))).json().status).toBe('Finished');
  });
});
