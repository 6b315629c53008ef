import { SEED, startSimulator, steadyLoadOptions, type LiveOptions, type Simulator } from '../src';
import { checkLiveOptions, LiveMode } from '../src/liveMode';
import { toCseJob, type SimJob } from '../src/model';
import { SimStore } from '../src/store';
import { admin, api, call, parseExact, withQuery } from './support';
import { byTaskOrder, expectJobInvariants, observe, observeConsistent } from './jobInvariants';

/**
 * Live mode's pace: ticksPerStep slows the steps, heartbeat keeps a job visibly alive between
 * them. Ticks are driven by hand (tick(), tickLive, POST /__sim/live/tick); the timer never fires.
 */

const { engines } = SEED;
const RUNNING = ['PreInit', 'Init', 'Executing'];
/** Long enough that the timer never fires during a test. */
const NEVER = 1_000_000_000;

const clone = <T>(value: T): T => structuredClone(value);

/** A job with every task's updateTime blanked: what must not change when a job only beats. */
const withoutUpdateTimes = (job: any): any => ({ ...job, tasks: job.tasks.map((task: any) => ({ ...task, updateTime: 0 })) });

describe('ticksPerStep and heartbeat, tick by tick', () => {
  const modes: LiveMode[] = [];
  afterEach(() => modes.splice(0).forEach((live) => live.stop()));

  function liveOn(options: LiveOptions): { store: SimStore; live: LiveMode } {
    const store = new SimStore();
    const live = new LiveMode(store, checkLiveOptions({ tickMs: NEVER, ...options }, store));
    live.start();
    modes.push(live);
    return { store, live };
  }

  /** The ticks (1-based) on which the job changed at all, over `ticks` ticks. */
  function changedOn(live: LiveMode, job: SimJob, ticks: number): number[] {
    const changed: number[] = [];
    for (let tick = 1; tick <= ticks; tick++) {
      const before = clone(job);
      live.tick();
      if (JSON.stringify(job) !== JSON.stringify(before)) changed.push(tick);
    }
    return changed;
  }

  it('steps a job only on every third tick with ticksPerStep 3, and changes nothing in between', () => {
    const { store, live } = liveOn({ initialJobs: 1, newJobEveryTicks: 0, taskCount: 3, ticksPerStep: 3, engineIds: [engines.empty] });
    const job = store.jobs(engines.empty)[0] as SimJob;
    const history: string[] = [];
    const changed: number[] = [];
    for (let tick = 1; tick <= 16; tick++) {
      const before = clone(job);
      live.tick();
      if (JSON.stringify(job) !== JSON.stringify(before)) changed.push(tick);
      history.push(`${job.status}:${[...job.tasks].sort(byTaskOrder).map((task) => task.status?.[0]).join('')}`);
      expectJobInvariants(toCseJob(job));
    }
    expect(changed).toEqual([3, 6, 9, 12, 15]);
    // Five steps of a 3-task job, each three ticks apart: the same lifecycle as with ticksPerStep 1.
    expect(history.filter((_entry, i) => (i + 1) % 3 === 0)).toEqual([
      'Init:III',
      'Executing:EII',
      'Executing:FEI',
      'Executing:FFE',
      'Finished:FFF',
    ]);
  });

  it('counts ticks per job from its start, so jobs started on different ticks step on different ticks', () => {
    const { store, live } = liveOn({ initialJobs: 0, newJobEveryTicks: 2, ticksPerStep: 3, taskCount: 5, engineIds: [engines.empty] });
    const changed = new Map<number, number[]>();
    for (let tick = 1; tick <= 10; tick++) {
      const before = clone(store.jobs(engines.empty));
      live.tick();
      for (const job of store.jobs(engines.empty)) {
        const was = before.find((other) => other.id === job.id);
        if (was !== undefined && JSON.stringify(was) !== JSON.stringify(job)) changed.set(job.id, [...(changed.get(job.id) ?? []), tick]);
      }
    }
    // Started on ticks 2 and 4 (then the engine is full): each steps on its own third and sixth tick.
    const [second, first] = store.jobs(engines.empty);
    expect(changed.get(first!.id)).toEqual([5, 8]);
    expect(changed.get(second!.id)).toEqual([7, 10]);
  });

  it('counts from live mode\'s start for a job already running then, and again after a restart', () => {
    const store = new SimStore();
    const job = store.startJob(engines.empty, { taskCount: 3 });
    const first = new LiveMode(store, checkLiveOptions({ tickMs: NEVER, initialJobs: 0, newJobEveryTicks: 0, ticksPerStep: 3, engineIds: [engines.empty] }, store));
    first.start();
    modes.push(first);
    expect(changedOn(first, job, 4)).toEqual([3]);
    // A restart on the job's fourth tick: it steps three ticks after the restart, not two.
    first.start();
    expect(changedOn(first, job, 3)).toEqual([3]);
    expect(job.status).toBe('Executing');
  });

  it('beats on the ticks between steps: the task the job is at gets the tick time as updateTime, nothing else', () => {
    const { store, live } = liveOn({ initialJobs: 3, newJobEveryTicks: 0, taskCount: 3, ticksPerStep: 4, heartbeat: true });
    const jobs = [engines.empty, engines.single, engines.onePage].map((id) => store.jobs(id)[0] as SimJob);
    expect(jobs.map((job) => job.status)).toEqual(['PreInit', 'Init', 'Executing']);
    for (let tick = 1; tick <= 3; tick++) {
      const before = clone(jobs);
      live.tick();
      jobs.forEach((job, i) => {
        const was = before[i] as SimJob;
        // The task each is at is its first: being prepared (PreInit, Init) or Executing.
        const updates = (of: SimJob) => [...of.tasks].sort(byTaskOrder).map((task) => task.updateTime);
        const [beat, ...rest] = updates(job);
        const [wasBeat, ...wasRest] = updates(was);
        expect(beat).toBeGreaterThan(wasBeat ?? 0);
        expect(rest).toEqual(wasRest);
        expect(withoutUpdateTimes(job)).toEqual(withoutUpdateTimes(was));
        expectJobInvariants(toCseJob(job));
      });
    }
    // All three beat at the same time, the tick's.
    expect(new Set(jobs.map((job) => job.tasks.find((task) => task.taskOrder === 0)?.updateTime)).size).toBe(1);
    // The fourth tick steps them instead.
    live.tick();
    expect(jobs.map((job) => job.status)).toEqual(['Init', 'Executing', 'Executing']);
  });

  it('beats the Executing task, wherever the job has got to', () => {
    const { store, live } = liveOn({ initialJobs: 1, newJobEveryTicks: 0, taskCount: 3, ticksPerStep: 2, heartbeat: true, engineIds: [engines.empty] });
    const job = store.jobs(engines.empty)[0] as SimJob;
    for (let tick = 0; tick < 6; tick++) live.tick();
    const executing = job.tasks.find((task) => task.status === 'Executing');
    expect(executing?.taskOrder).toBe(1);
    const startedAt = executing?.startTime;
    live.tick();
    expect(executing?.updateTime).toBeGreaterThan(startedAt ?? 0);
    expect(executing?.startTime).toBe(startedAt);
    expect(job.tasks.filter((task) => task.updateTime === executing?.updateTime)).toEqual([executing]);
  });

  it('leaves the defaults as they were: ticksPerStep 1 and no heartbeat are what {} means', () => {
    const run = (options: LiveOptions) => {
      const { store, live } = liveOn({ initialJobs: 4, newJobEveryTicks: 2, ...options });
      for (let tick = 0; tick < 25; tick++) live.tick();
      return store.liveEngineIds(SEED_PROJECT).map((id) => clone(store.jobs(id)));
    };
    expect(run({ ticksPerStep: 1, heartbeat: false })).toEqual(run({}));
    // With ticksPerStep 1 every tick steps, so a heartbeat has no tick to show on.
    expect(run({ heartbeat: true })).toEqual(run({}));
  });

  it('refuses bad pace options, naming the option and the value', () => {
    const store = new SimStore();
    expect(checkLiveOptions({ ticksPerStep: 1000, heartbeat: true }, store)).toMatchObject({ ticksPerStep: 1000, heartbeat: true });
    expect(() => checkLiveOptions({ ticksPerStep: 0 }, store)).toThrow('live: ticksPerStep must be an integer of at least 1, got 0');
    expect(() => checkLiveOptions({ ticksPerStep: 2.5 }, store)).toThrow('live: ticksPerStep must be an integer of at least 1, got 2.5');
    expect(() => checkLiveOptions({ ticksPerStep: '3' }, store)).toThrow('live: ticksPerStep must be an integer of at least 1, got 3');
    expect(() => checkLiveOptions({ heartbeat: 'yes' }, store)).toThrow('live: heartbeat must be true or false, got "yes"');
    expect(() => checkLiveOptions({ heartbeat: 1 }, store)).toThrow('live: heartbeat must be true or false, got 1');
    expect(() => checkLiveOptions({ heartBeat: true }, store)).toThrow(/unknown option "heartBeat" \(known: .*ticksPerStep, heartbeat/);
  });

  it('holds 500 running jobs, 100 on each of 5 engines, every one changing on every tick, cheaply and without sorting', () => {
    const options = steadyLoadOptions();
    expect(options.engineIds).toHaveLength(5);
    const { store, live } = liveOn({ ...options, tickMs: NEVER });
    const started = options.engineIds.flatMap((id) => store.jobs(id).filter((job) => job.description?.startsWith('Live job')));
    expect(started).toHaveLength(500);
    for (const id of options.engineIds) {
      expect(store.jobs(id).filter((job) => RUNNING.includes(job.status ?? ''))).toHaveLength(100);
    }
    expect(live.status()).toMatchObject({ started: 500 });
    const statuses = started.map((job) => job.status);
    const order = options.engineIds.map((id) => store.jobs(id).map((job) => job.id));

    const sort = jest.spyOn(Array.prototype, 'sort');
    const ticks = 60;
    const began = performance.now();
    try {
      for (let tick = 0; tick < ticks; tick++) live.tick();
    } finally {
      sort.mockRestore();
    }
    const perTick = (performance.now() - began) / ticks;
    // A beat touches one task of one job: a tick over 500 jobs takes well under a millisecond.
    // 20 ms leaves room for a loaded machine and still fails on anything per-list or quadratic.
    expect(perTick).toBeLessThan(20);
    expect(sort).not.toHaveBeenCalled();
    const lastTick = Math.max(...started.flatMap((job) => job.tasks.map((task) => task.updateTime ?? 0)));
    for (const job of started) {
      expect(job.tasks.some((task) => task.updateTime === lastTick)).toBe(true);
      expectJobInvariants(toCseJob(job));
    }
    // Beats only: no job has stepped, and no list has moved.
    expect(started.map((job) => job.status)).toEqual(statuses);
    expect(options.engineIds.map((id) => store.jobs(id).map((job) => job.id))).toEqual(order);
    expect(store.runningCount).toBeGreaterThanOrEqual(500);

    // Tick 1000: every one of them steps, still running.
    for (let tick = ticks; tick < 1000; tick++) live.tick();
    const next: Record<string, string> = { PreInit: 'Init', Init: 'Executing', Executing: 'Executing' };
    expect(started.map((job) => job.status)).toEqual(statuses.map((status) => next[status ?? '']));
    expect(started.filter((job) => RUNNING.includes(job.status ?? ''))).toHaveLength(500);
  });
});

const SEED_PROJECT = '0605767ecb00d4b12f2bc00d3a5b1a83';

describe('ticksPerStep and heartbeat in a running simulator, ticked by hand', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());
  afterEach(() => sim.stopLive());

  /** The head job of an engine as the list answers it. */
  async function listedHead(engineId: string): Promise<any> {
    const res = await call(sim, withQuery(api.jobs(engineId), { limit: 10 }));
    expect(res.status).toBe(200);
    return parseExact(res.text).data[0];
  }

  it('a tick that does not step shows in the list answer as a new updateTime of the job\'s current task', async () => {
    sim.startLive({ tickMs: NEVER, initialJobs: 3, newJobEveryTicks: 0, ticksPerStep: 5, heartbeat: true, engineIds: [engines.empty, engines.single, engines.onePage] });
    const before = await listedHead(engines.onePage);
    expect(before.status).toBe('Executing');
    const executing = (job: any) => job.tasks.find((task: any) => task.status === 'Executing');
    expect(sim.tickLive()).toMatchObject({ ticks: 1 });
    const after = await listedHead(engines.onePage);
    expect(after.status).toBe('Executing');
    expect(executing(after).updateTime).toBeGreaterThan(executing(before).updateTime);
    // Nothing else changed.
    expect(withoutUpdateTimes(after)).toEqual(withoutUpdateTimes(before));
    // The details show the same beat, and agree with the list.
    await observeConsistent(sim, engines.onePage, after.id);
  });

  it('shows the beat in the job details too, phases included (drift answers in phases)', async () => {
    sim.startLive({ tickMs: NEVER, initialJobs: 0, newJobEveryTicks: 0, ticksPerStep: 3, heartbeat: true, engineIds: [engines.drift] });
    // The drift engine's seeded Executing job.
    const jobId = (await call(sim, api.jobs(engines.drift))).json().data.find((job: any) => job.status === 'Executing').id;
    const beatOf = async () => {
      const { detailTasks } = await observe(sim, engines.drift, jobId);
      return detailTasks.find((task: any) => task.status === 'Executing').updateTime;
    };
    const first = await beatOf();
    sim.tickLive();
    const second = await beatOf();
    expect(second).toBeGreaterThan(first);
    await observeConsistent(sim, engines.drift, jobId);
  });

  it('POST /__sim/live/tick runs ticks by hand and answers the status; it refuses when live mode is off or the count is bad', async () => {
    const off = await admin(sim, 'POST', 'live/tick');
    expect([off.status, off.json().error]).toEqual([400, 'tickLive: live mode is off']);
    sim.startLive({ tickMs: NEVER, initialJobs: 1, newJobEveryTicks: 0, ticksPerStep: 2, engineIds: [engines.empty] });
    expect((await listedHead(engines.empty)).status).toBe('PreInit');
    const one = await admin(sim, 'POST', 'live/tick');
    expect([one.status, one.json()]).toEqual([200, expect.objectContaining({ on: true, ticks: 1 })]);
    expect((await listedHead(engines.empty)).status).toBe('PreInit');
    expect((await admin(sim, 'POST', 'live/tick', { ticks: 3 })).json()).toMatchObject({ ticks: 4 });
    expect((await listedHead(engines.empty)).status).toBe('Executing');
    for (const body of [{ ticks: 0 }, { ticks: 10_001 }, { ticks: '2' }, { tick: 2 }, '[]']) {
      const res = await admin(sim, 'POST', 'live/tick', body);
      expect([body, res.status]).toEqual([body, 400]);
    }
    expect((await admin(sim, 'POST', 'live/tick', { ticks: 0 })).json().error).toBe('tickLive: ticks must be an integer from 1 to 10000, got 0');
    expect(sim.live).toMatchObject({ ticks: 4 });
  });

  it('PUT /__sim/live refuses bad pace options with 400, naming them', async () => {
    for (const [body, message] of [
      [{ ticksPerStep: 0 }, 'live: ticksPerStep must be an integer of at least 1, got 0'],
      [{ heartbeat: 'on' }, 'live: heartbeat must be true or false, got "on"'],
    ] as const) {
      const res = await admin(sim, 'PUT', 'live', body);
      expect([res.status, res.json().error]).toEqual([400, message]);
    }
    expect(sim.live).toBeUndefined();
  });
});
