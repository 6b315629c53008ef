import type { CseJob, CseTask, CseTaskPhase } from '../upstream/types';
import { makeJob } from './jobFactory';
import { fromCseInteger, type SimEngine, type SimJob, type SimTask } from './model';
import { buildSeed, JOB_SPACING_MS, SEED_ENGINE_IDS } from './seed';

export type EngineLookup =
  | { kind: 'live'; engine: SimEngine }
  | { kind: 'gone'; engine: SimEngine }
  | { kind: 'missing' };

export class NoSuchEngineError extends Error {}

/** Newest first; equal start times fall back to the id so the order is total and stable. */
export function newestFirst(a: SimJob, b: SimJob): number {
  return b.startTime - a.startTime || b.id - a.id;
}

/**
 * The simulator's data: engines per project and each engine's jobs, newest first. Counters only
 * move forward from the seed, so jobs added at run time are always newer and have larger ids.
 */
export class SimStore {
  private engines = new Map<string, SimEngine>();
  private jobsByEngine = new Map<string, SimJob[]>();
  private nextJobId = 0;
  private nextTaskId = 0;
  private latestStartTime = 0;

  constructor() {
    this.reset();
  }

  reset(): void {
    const seed = buildSeed();
    this.engines = new Map(seed.engines.map((engine) => [engine.record.id, engine]));
    this.jobsByEngine = seed.jobs;
    this.nextJobId = seed.nextJobId;
    this.nextTaskId = seed.nextTaskId;
    this.latestStartTime = seed.latestStartTime;
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
      const jobStart = startTime ?? this.latestStartTime + JOB_SPACING_MS;
      this.latestStartTime = Math.max(this.latestStartTime, jobStart);
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
    }
    const list = [...added, ...this.jobs(engineId)].sort(newestFirst);
    this.jobsByEngine.set(engineId, list);
    return added;
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
