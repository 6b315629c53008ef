import type { CseIntegerId, CseJob, CseTask, CseTaskPhase } from './wire';
import { checkAdvanceJobOptions, checkJobPatch, checkStartJobOptions } from './controls';
import { isTerminal, makeJob } from './jobFactory';
import { fromCseInteger, type SimEngine, type SimJob, type SimTask } from './model';
import { isRunning, JobProgress, JobStateError, type LivePace } from './progress';
import { buildSeed, JOB_SPACING_MS, SEED_ENGINE_IDS } from './seed';
import type { AdvanceJobOptions, JobPatch, StartJobOptions } from './types';

export type EngineLookup =
  | { kind: 'live'; engine: SimEngine }
  | { kind: 'gone'; engine: SimEngine }
  | { kind: 'missing' };

export class NoSuchEngineError extends Error {}
export class NoSuchJobError extends Error {}

/** How far the clock moves for each step of advanceJob: a task then lasts 8 s, like the seed's. */
export const ADVANCE_STEP_MS = 8_000;

/** Newest first; equal start times fall back to the id so the order is total and stable. */
export function newestFirst(a: SimJob, b: SimJob): number {
  return b.startTime - a.startTime || b.id - a.id;
}

/**
 * The simulator's data: engines per project and each engine's jobs, newest first. Counters only
 * move forward from the seed, so jobs added at run time are always newer and have larger ids.
 *
 * `now` is the simulator's clock (see the Simulator interface): never behind any job's startTime,
 * so a job started "now" belongs at the head of its list and is put there without sorting.
 */
export class SimStore {
  private engines = new Map<string, SimEngine>();
  private jobsByEngine = new Map<string, SimJob[]>();
  /** Every job by id (ids are unique across engines), so a control finds its job in O(1). */
  private jobsById = new Map<number, SimJob>();
  /** Every job in PreInit, Init or Executing, in the order it became known. */
  private running = new Map<number, JobProgress>();
  private nextJobId = 0;
  private nextTaskId = 0;
  private now = 0;

  constructor() {
    this.reset();
  }

  reset(): void {
    const seed = buildSeed();
    this.engines = new Map(seed.engines.map((engine) => [engine.record.id, engine]));
    this.jobsByEngine = seed.jobs;
    this.nextJobId = seed.nextJobId;
    this.nextTaskId = seed.nextTaskId;
    this.now = seed.latestStartTime;
    this.jobsById = new Map();
    this.running = new Map();
    for (const list of this.jobsByEngine.values()) {
      // Oldest first, so running jobs are visited in the order they were started.
      for (let i = list.length - 1; i >= 0; i--) this.remember(list[i] as SimJob);
    }
  }

  /** An engine of another project is "missing": project scoping is what the upstream enforces. */
  findEngine(projectId: string, engineId: string): EngineLookup {
    const engine = this.engines.get(engineId);
    if (!engine || engine.projectId !== projectId) return { kind: 'missing' };
    return engine.state === 'gone' ? { kind: 'gone', engine } : { kind: 'live', engine };
  }

  /** Live engines of a project, newest first (createTime, then id). */
  listEngines(projectId: string, accept: (engine: SimEngine) => boolean): SimEngine[] {
    return [...this.engines.values()]
      .filter((engine) => engine.projectId === projectId && engine.state === 'live' && accept(engine))
      .sort((a, b) => b.record.createTime - a.record.createTime || (a.record.id < b.record.id ? 1 : -1));
  }

  hasLiveEngine(engineId: string): boolean {
    return this.engines.get(engineId)?.state === 'live';
  }

  /** The project's live engine ids in engine-list order. */
  liveEngineIds(projectId: string): string[] {
    return this.listEngines(projectId, () => true).map((engine) => engine.record.id);
  }

  jobs(engineId: string): readonly SimJob[] {
    return this.jobsByEngine.get(engineId) ?? [];
  }

  latestJobId(engineId: string): number | undefined {
    return this.jobs(engineId)[0]?.id;
  }

  /**
   * New jobs at the head of an engine's list, returned newest first. `id` and `engineId` are the
   * simulator's to assign (monotonic ids are what keeps cursors testable); a `startTime` override
   * is honoured and may place a job away from the head.
   */
  addJobs(engineId: string, count: number, overrides: Partial<CseJob> = {}): SimJob[] {
    const engine = this.engines.get(engineId);
    if (!engine || engine.state !== 'live') throw new NoSuchEngineError(`addJobs: no live engine with id "${engineId}"`);
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`addJobs: count must be a non-negative integer, got ${count}`);
    const { id, engineId: overriddenEngine, tasks, startTime, ...fields } = overrides;
    if (id !== undefined || overriddenEngine !== undefined) {
      throw new TypeError('addJobs: id and engineId are assigned by the simulator');
    }
    if (startTime === null) throw new TypeError('addJobs: startTime cannot be null');

    const added: SimJob[] = [];
    for (let i = 0; i < count; i++) {
      const jobId = this.nextJobId++;
      const jobStart = startTime ?? this.now + JOB_SPACING_MS;
      this.now = Math.max(this.now, jobStart);
      const job = makeJob({
        id: jobId,
        engineId,
        engineName: engine.record.name ?? engineId,
        type: fields.type ?? 'Configure',
        status: fields.status ?? 'Finished',
        startTime: jobStart,
        // The drift engine's details are split into two phases, which needs at least two tasks.
        taskCount: engineId === SEED_ENGINE_IDS.drift ? 3 : 1 + (jobId % 3),
        nextTaskId: () => this.nextTaskId++,
      });
      const merged: SimJob = { ...job, ...definedOnly(fields) };
      if (tasks !== undefined) merged.tasks = overrideTasks(tasks, jobId);
      added.unshift(merged);
      this.remember(merged);
    }
    const list = [...added, ...this.jobs(engineId)].sort(newestFirst);
    this.jobsByEngine.set(engineId, list);
    return added;
  }

  /** One job at the head of the engine's list, in PreInit: see `Simulator.startJob`. */
  startJob(engineId: string, options: StartJobOptions = {}): SimJob {
    const engine = this.liveEngine(engineId, 'startJob');
    const { taskCount, ...fields } = checkStartJobOptions(options, 'startJob');
    const startTime = this.now + JOB_SPACING_MS;
    this.now = startTime;
    const job = makeJob({
      ...fields,
      id: this.nextJobId++,
      engineId,
      engineName: engine.record.name ?? engineId,
      type: fields.type ?? 'Configure',
      status: 'PreInit',
      startTime,
      taskCount,
      nextTaskId: () => this.nextTaskId++,
    });
    // Newest start time and largest id: the head, by the same order newestFirst sorts by.
    const list = this.jobsByEngine.get(engineId);
    if (list) list.unshift(job);
    else this.jobsByEngine.set(engineId, [job]);
    this.remember(job);
    return job;
  }

  /** See `Simulator.advanceJob`; every step is stamped ADVANCE_STEP_MS after the previous one. */
  advanceJob(engineId: string, jobId: CseIntegerId, options: AdvanceJobOptions = {}): SimJob {
    const job = this.requireJob(engineId, jobId, 'advanceJob');
    const { steps, to } = checkAdvanceJobOptions(options, 'advanceJob');
    if (isTerminal(job.status ?? '')) return job;
    const progress = this.running.get(job.id);
    if (!progress) throw new JobStateError(`advanceJob: job ${job.id} is ${String(job.status)}, a status outside the lifecycle`);
    if (to === 'Error' || to === 'Timeout') {
      progress.fail(to, this.advanceClock(ADVANCE_STEP_MS));
    } else {
      // Capped at Finished, so a huge `steps` costs no more than the job has steps.
      const count = to === undefined ? Math.min(steps, progress.stepsTo('Finished')) : progress.stepsTo(to);
      for (let i = 0; i < count; i++) progress.step(this.advanceClock(ADVANCE_STEP_MS));
    }
    if (progress.finished) this.running.delete(job.id);
    return job;
  }

  /** See `Simulator.updateJob`. */
  updateJob(engineId: string, jobId: CseIntegerId, patch: JobPatch): SimJob {
    const job = this.requireJob(engineId, jobId, 'updateJob');
    Object.assign(job, checkJobPatch(patch, 'updateJob'));
    return job;
  }

  /**
   * One live tick, all stamped `at`: every running job steps or, between its steps, beats (see
   * LivePace). O(running jobs): each touches only its own job and no list is re-sorted.
   */
  advanceRunning(at: number, pace: LivePace): void {
    for (const [id, progress] of this.running) {
      progress.tick(at, pace);
      // Deleting the entry being visited is safe in a Map iteration.
      if (progress.finished) this.running.delete(id);
    }
  }

  /** Live mode (re)starts: every running job counts its ticks from now. */
  restartLiveTicks(): void {
    for (const progress of this.running.values()) progress.restartTicks();
  }

  /** Moves the clock forward by `ms` and returns the new time. */
  advanceClock(ms: number): number {
    this.now += ms;
    return this.now;
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Running jobs per engine id; engines with none are absent. */
  runningPerEngine(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { job } of this.running.values()) counts.set(job.engineId, (counts.get(job.engineId) ?? 0) + 1);
    return counts;
  }

  /** A job of the engine by its id as the upstream reads it (digits, leading zeros allowed). */
  findJob(engineId: string, jobId: string): SimJob | undefined {
    if (!/^\d+$/.test(jobId)) return undefined;
    const wanted = BigInt(jobId);
    if (wanted > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    const job = this.jobsById.get(Number(wanted));
    return job?.engineId === engineId ? job : undefined;
  }

  private remember(job: SimJob): void {
    this.jobsById.set(job.id, job);
    if (isRunning(job.status)) this.running.set(job.id, new JobProgress(job));
  }

  private liveEngine(engineId: string, caller: string): SimEngine {
    const engine = this.engines.get(engineId);
    if (!engine || engine.state !== 'live') throw new NoSuchEngineError(`${caller}: no live engine with id "${engineId}"`);
    return engine;
  }

  private requireJob(engineId: string, jobId: CseIntegerId, caller: string): SimJob {
    this.liveEngine(engineId, caller);
    const text = typeof jobId === 'number' ? (Number.isSafeInteger(jobId) && jobId >= 0 ? String(jobId) : '') : String(jobId);
    const job = this.findJob(engineId, text);
    if (!job) throw new NoSuchJobError(`${caller}: engine "${engineId}" has no job ${JSON.stringify(jobId)}`);
    return job;
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}

/** Phases in an override are flattened: the store keeps flat tasks and derives phases on read. */
function overrideTasks(tasks: Array<CseTask | CseTaskPhase> | null, jobId: number): SimTask[] {
  if (tasks === null) return [];
  const flat = tasks.flatMap((item) => (isPhase(item) ? item.tasks : [item]));
  return flat.map((task) => ({
    ...task,
    taskExecutorBrief: task.taskExecutorBrief ? { ...task.taskExecutorBrief } : task.taskExecutorBrief,
    id: fromCseInteger(task.id, 'task id'),
    jobId,
  }));
}

function isPhase(item: CseTask | CseTaskPhase): item is CseTaskPhase {
  return !('id' in item) && Array.isArray((item as CseTaskPhase).tasks);
}
