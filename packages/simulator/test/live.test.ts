import { SEED, startSimulator, type LiveOptions, type Simulator } from '../src';
import { checkLiveOptions, LiveMode } from '../src/liveMode';
import { toCseJob, type SimJob } from '../src/model';
import { SimStore } from '../src/store';
import { admin, allJobs, api, call, withQuery } from './support';
import { expectJobInvariants, observeConsistent, TERMINAL } from './jobInvariants';

const { engines } = SEED;
const RUNNING = ['PreInit', 'Init', 'Executing'];
/** Long enough that the timer never fires during a test that drives ticks by hand. */
const NEVER = 1_000_000_000;

/** Live mode on a bare store, ticked by hand: what each tick does, with no timer involved. */
function liveOn(options: LiveOptions): { store: SimStore; live: LiveMode } {
  const store = new SimStore();
  const live = new LiveMode(store, checkLiveOptions({ tickMs: NEVER, ...options }, store));
  live.start();
  return { store, live };
}

function runningJobs(store: SimStore, engineId: string): SimJob[] {
  return store.jobs(engineId).filter((job) => RUNNING.includes(job.status ?? ''));
}

const clone = <T>(value: T): T => structuredClone(value);

describe('live mode, tick by tick', () => {
  const modes: LiveMode[] = [];
  const track = (pair: { store: SimStore; live: LiveMode }) => {
    modes.push(pair.live);
    return pair;
  };
  afterEach(() => modes.splice(0).forEach((live) => live.stop()));

  it('starts the initial jobs at once, round robin, showing PreInit, Init and Executing', () => {
    const { store, live } = track(liveOn({ initialJobs: 4, engineIds: [engines.empty, engines.single, engines.onePage] }));
    // The fourth goes round to the first engine again, and stays in PreInit like the first.
    expect(store.jobs(engines.empty).map((job) => job.status)).toEqual(['PreInit', 'PreInit']);
    expect(store.jobs(engines.single)[0]?.status).toBe('Init');
    expect(store.jobs(engines.onePage)[0]?.status).toBe('Executing');
    expect(store.jobs(engines.empty).map((job) => job.description)).toEqual(['Live job 4', 'Live job 1']);
    expect(live.status()).toMatchObject({ ticks: 0, started: 4 });
  });

  it('advances every running job one step per tick, seeded ones included, and no terminal one', () => {
    const { store, live } = track(liveOn({ initialJobs: 3, newJobEveryTicks: 0 }));
    const everyJob = () => [...SEED_ENGINES].flatMap((id) => store.jobs(id));
    const before = clone(everyJob());
    live.tick();
    const after = everyJob();
    expect(after).toHaveLength(before.length);
    let moved = 0;
    after.forEach((job, i) => {
      const was = before[i] as SimJob;
      expect(job.id).toBe(was.id);
      if (RUNNING.includes(was.status ?? '')) {
        expect(job).not.toEqual(was);
        expectJobInvariants(toCseJob(job));
        moved += 1;
      } else {
        expect(job).toEqual(was);
      }
    });
    // Three started, plus the seed's four (max-page Init, big Executing, drift PreInit and Executing).
    expect(moved).toBe(7);
    // The seed's job in a status outside the lifecycle is left alone.
    expect(store.jobs(engines.drift).find((job) => job.status === 'Suspended')).toBeDefined();
  });

  it('takes a 3-task job from PreInit to Finished in 5 ticks, one task at a time', () => {
    const { store, live } = track(liveOn({ initialJobs: 1, newJobEveryTicks: 0, engineIds: [engines.empty] }));
    const job = store.jobs(engines.empty)[0] as SimJob;
    const history = [job.status];
    for (let tick = 0; tick < 7; tick++) {
      live.tick();
      history.push(job.status);
    }
    expect(history).toEqual(['PreInit', 'Init', 'Executing', 'Executing', 'Executing', 'Finished', 'Finished', 'Finished']);
  });

  it('starts a job every newJobEveryTicks ticks, first advanced on the next tick', () => {
    const { store, live } = track(liveOn({ initialJobs: 0, newJobEveryTicks: 3, engineIds: [engines.empty] }));
    const seen: string[][] = [];
    for (let tick = 1; tick <= 7; tick++) {
      live.tick();
      seen.push(store.jobs(engines.empty).map((job) => job.status ?? ''));
    }
    expect(seen).toEqual([
      [],
      [],
      ['PreInit'],
      ['Init'],
      ['Executing'],
      ['PreInit', 'Executing'],
      ['Init', 'Executing'],
    ]);
  });

  it('never runs more than maxRunningPerEngine per engine, round robin, skipping starts when all are full', () => {
    const engineIds = [engines.empty, engines.single, engines.maxPage];
    const names = new Map([
      [engines.empty, 'empty'],
      [engines.single, 'single'],
      [engines.maxPage, 'maxPage'],
    ]);
    const { store, live } = track(liveOn({ initialJobs: 5, newJobEveryTicks: 1, maxRunningPerEngine: 1, taskCount: 2, engineIds }));
    // max-page's seeded Init job fills it already: the initial burst gets two jobs of five.
    expect(live.status().started).toBe(2);
    const starts: string[] = [];
    for (let tick = 1; tick <= 12; tick++) {
      const before = live.status().started;
      live.tick();
      for (const id of engineIds) expect(runningJobs(store, id).length).toBeLessThanOrEqual(1);
      if (live.status().started > before) {
        const engineId = engineIds.find((id) => store.jobs(id)[0]?.description === `Live job ${live.status().started}`) ?? '';
        starts.push(`${tick}:${names.get(engineId)}`);
      }
    }
    // A 2-task job runs 4 ticks from PreInit. Each engine gets its next job, in turn, once its
    // last one has finished; on ticks 6 and 10 all three are busy and nothing starts.
    expect(starts).toEqual(['3:single', '4:maxPage', '5:empty', '7:single', '8:maxPage', '9:empty', '11:single', '12:maxPage']);
  });

  it('is deterministic: equal options and tick counts give equal stores', () => {
    const run = () => {
      const { store, live } = track(liveOn({ initialJobs: 4, newJobEveryTicks: 2, maxRunningPerEngine: 2 }));
      for (let tick = 0; tick < 25; tick++) live.tick();
      return SEED_ENGINES.map((id) => clone(store.jobs(id)));
    };
    expect(run()).toEqual(run());
  });

  it('checks its options, naming the option and the value', () => {
    const store = new SimStore();
    expect(checkLiveOptions({}, store)).toEqual({
      tickMs: 12_000,
      newJobEveryTicks: 2,
      maxRunningPerEngine: 2,
      taskCount: 3,
      initialJobs: 3,
      ticksPerStep: 1,
      heartbeat: false,
      engineIds: store.liveEngineIds(SEED_PROJECT),
    });
    expect(checkLiveOptions({}, store).engineIds.slice(0, 3)).toEqual([engines.empty, engines.single, engines.onePage]);
    expect(() => checkLiveOptions({ tickMs: 0 }, store)).toThrow('live: tickMs must be an integer of at least 1, got 0');
    expect(() => checkLiveOptions({ maxRunningPerEngine: 0 }, store)).toThrow(/maxRunningPerEngine/);
    expect(() => checkLiveOptions({ initialJobs: -1 }, store)).toThrow(/initialJobs/);
    expect(() => checkLiveOptions({ newJobEveryTicks: 1.5 }, store)).toThrow(/newJobEveryTicks/);
    expect(() => checkLiveOptions({ taskCount: 0 }, store)).toThrow(/taskCount/);
    expect(() => checkLiveOptions({ engineIds: [engines.gone] }, store)).toThrow(`live: engineIds names "${engines.gone}", which is not a live engine`);
    expect(() => checkLiveOptions({ tick: 5 }, store)).toThrow(/unknown option "tick"/);
  });

  it('ticks cheaply over 500 running jobs, every one of them changing on every tick', () => {
    const { store, live } = track(
      liveOn({ initialJobs: 500, maxRunningPerEngine: 20, taskCount: 300, newJobEveryTicks: 1 }),
    );
    expect(store.runningCount).toBeGreaterThanOrEqual(500);
    const started = SEED_ENGINES.flatMap((id) => store.jobs(id).filter((job) => job.description?.startsWith('Live job')));
    expect(started).toHaveLength(500);
    const ticks = 60;
    const began = performance.now();
    for (let tick = 0; tick < ticks; tick++) live.tick();
    const perTick = (performance.now() - began) / ticks;
    // A step touches two tasks of one job: a tick over these 500 to 600 jobs takes about a
    // millisecond. 20 ms leaves room for a loaded machine and still fails on anything quadratic
    // (re-sorting or scanning the lists per job would cost 100 times more).
    expect(perTick).toBeLessThan(20);
    const lastTick = maxUpdate(started);
    for (const job of started) {
      // Still running after 60 ticks (302 steps to finish), and changed on the last tick.
      expect(job.status).toBe('Executing');
      expect(maxUpdate([job])).toBe(lastTick);
    }
    // Progress never re-orders a list.
    for (const id of SEED_ENGINES) {
      const list = store.jobs(id);
      for (let i = 1; i < list.length; i++) expect(list[i - 1]!.startTime).toBeGreaterThanOrEqual(list[i]!.startTime);
    }
  });
});

const SEED_PROJECT = '0605767ecb00d4b12f2bc00d3a5b1a83';
const SEED_ENGINES = new SimStore().liveEngineIds(SEED_PROJECT);

function maxUpdate(jobs: SimJob[]): number {
  let latest = 0;
  for (const job of jobs) for (const task of job.tasks) latest = Math.max(latest, task.updateTime ?? 0);
  return latest;
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('live mode in a running simulator', () => {
  let sim: Simulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('is off by default: the seed does not move', async () => {
    sim = await startSimulator();
    expect(sim.live).toBeUndefined();
    const before = (await call(sim, withQuery(api.jobs(engines.drift), { limit: 100 }))).text;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await call(sim, withQuery(api.jobs(engines.drift), { limit: 100 }))).text).toBe(before);
  });

  it('live: true starts the demo: three jobs at once on the first engines, a minute per job', async () => {
    sim = await startSimulator({ live: true });
    expect(sim.live).toMatchObject({ ticks: 0, started: 3, options: { tickMs: 12_000, newJobEveryTicks: 2, taskCount: 3 } });
    const heads = await Promise.all(
      [engines.empty, engines.single, engines.onePage].map(async (id) => (await call(sim as Simulator, api.jobs(id))).json().data[0]),
    );
    expect(heads.map((job) => job.status)).toEqual(['PreInit', 'Init', 'Executing']);
    expect((await admin(sim, 'GET', 'live')).json()).toMatchObject({ on: true, started: 3 });
  });

  it('progresses on its timer, starts new jobs within the bound, and keeps list and details agreeing', async () => {
    const engineIds = [engines.empty, engines.single];
    sim = await startSimulator({ live: { tickMs: 15, newJobEveryTicks: 1, maxRunningPerEngine: 1, taskCount: 2, initialJobs: 2, engineIds } });
    const live = sim;
    let observations = 0;
    await waitFor('a live job to finish and more to start', async () => {
      for (const id of engineIds) {
        const jobs = await allJobs(live, id);
        expect(jobs.filter((job) => RUNNING.includes(job.status)).length).toBeLessThanOrEqual(1);
        for (const job of jobs) expectJobInvariants(job);
        observations += 1;
      }
      const started = live.live?.started ?? 0;
      const finished = (await allJobs(live, engines.empty)).filter((job) => job.description.startsWith('Live') && TERMINAL.includes(job.status));
      // Several rounds observed, whatever the host's load let the timer do before the first.
      return observations > 2 && started >= 4 && finished.length >= 1;
    });
    // List and details are two requests; a tick may land between them, so compare them at rest.
    live.stopLive();
    for (const id of engineIds) {
      for (const job of (await call(live, api.jobs(id))).json().data.slice(0, 3)) await observeConsistent(live, id, job.id);
    }
  });

  it('close() stops the timer: nothing moves afterwards', async () => {
    sim = await startSimulator({ live: { tickMs: 10, newJobEveryTicks: 1, initialJobs: 1, engineIds: [engines.empty], taskCount: 50 } });
    const live = sim;
    await waitFor('a few ticks', () => (live.live?.ticks ?? 0) >= 3);
    const [job] = (await call(live, api.jobs(engines.empty))).json().data;
    await live.close();
    expect(live.live).toBeUndefined();
    // The store outlives the server: read it in process, twice, several tick lengths apart.
    const first = live.updateJob(engines.empty, job.id, {});
    expect(RUNNING).toContain(first.status);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(live.updateJob(engines.empty, job.id, {})).toEqual(first);
    expect(() => live.startLive()).toThrow(/closed/);
  });

  it('reset() restores the seed and starts live mode over, as a fresh start would', async () => {
    const options = { tickMs: 15, initialJobs: 3, newJobEveryTicks: 1, engineIds: [engines.empty, engines.single] };
    sim = await startSimulator({ live: options });
    const fresh = await startSimulator({ live: { ...options, tickMs: NEVER } });
    try {
      const live = sim;
      await waitFor('some ticks', () => (live.live?.ticks ?? 0) >= 5);
      const expected = [...(await allJobs(fresh, engines.empty)), ...(await allJobs(fresh, engines.single))];
      live.reset();
      // Read in process, synchronously, before the next tick can land.
      expect(live.live).toMatchObject({ ticks: 0, started: 3 });
      const now = expected.map((job) => live.updateJob(job.engineId, job.id, {}));
      expect(now).toEqual(expected);
      await waitFor('ticks after the reset', () => (live.live?.ticks ?? 0) >= 2);
      const [head] = (await call(live, api.jobs(engines.empty))).json().data;
      expect(head).not.toEqual(expected[0]);
    } finally {
      await fresh.close();
    }
  });

  it('refuses bad live options at start, before listening', async () => {
    await expect(startSimulator({ live: { tickMs: -5 } })).rejects.toThrow(/tickMs/);
  });
});
