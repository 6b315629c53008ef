import type { SimJob, SimTask } from './model';
import type { JobStatusTarget } from './types';

/**
 * A job's way through the lifecycle PreInit → Init → Executing → Finished (or Error / Timeout),
 * step by step as documented with the job controls in types.ts; this is the one place that
 * changes a job's status, scheduling, times or tasks.
 *
 * Tasks are found by taskOrder, never by array position (the drift engine lists them out of
 * order, as the upstream may), and the array keeps its order. The mutations happen in place on
 * the stored job, so the list and the job details (which read the same objects) agree at every
 * moment, and a step costs O(1) however long the lists are.
 */

/** Statuses a job can advance from. Anything else is terminal or a status nobody documented. */
const RUNNING = new Set(['PreInit', 'Init', 'Executing']);

/** Where each status sits in the lifecycle, to tell "not there yet" from "already past it". */
const RANK: Readonly<Record<string, number>> = { PreInit: 0, Init: 1, Executing: 2, Finished: 3, Error: 3, Timeout: 3 };

export const JOB_STATUS_TARGETS: readonly JobStatusTarget[] = ['Init', 'Executing', 'Finished', 'Error', 'Timeout'];

export function isRunning(status: string | null | undefined): boolean {
  return RUNNING.has(status ?? '');
}

/** The job cannot get where it was asked to go: it is past that status, or outside the lifecycle. */
export class JobStateError extends Error {}

/** How live mode paces a job: see LiveOptions.ticksPerStep and LiveOptions.heartbeat. */
export interface LivePace {
  ticksPerStep: number;
  heartbeat: boolean;
}

export class JobProgress {
  /** The same task objects as `job.tasks`, in taskOrder (stable for equal orders). */
  private readonly byOrder: SimTask[];
  /** Index in `byOrder` of the first task that has not finished; byOrder.length when none is left. */
  private current: number;
  /**
   * Live ticks this job has seen while running, counted from its start (or live mode's start):
   * its own count, so jobs started on different ticks step on different ticks.
   */
  private liveTicks = 0;

  constructor(readonly job: SimJob) {
    if (!isRunning(job.status)) throw new JobStateError(`job ${job.id} is ${String(job.status)}, not in the lifecycle`);
    this.byOrder = [...job.tasks].sort((a, b) => (a.taskOrder ?? 0) - (b.taskOrder ?? 0));
    const firstOpen = this.byOrder.findIndex((task) => task.status !== 'Finished');
    this.current = firstOpen === -1 ? this.byOrder.length : firstOpen;
  }

  get status(): string {
    return this.job.status ?? '';
  }

  get finished(): boolean {
    return !isRunning(this.job.status);
  }

  /** One step, stamped `at`. A job already out of the lifecycle is left alone. */
  step(at: number): void {
    const job = this.job;
    switch (job.status) {
      case 'PreInit':
        job.status = 'Init';
        for (const task of this.byOrder) {
          if (task.status === 'PreInit') setStatus(task, 'Init', at);
        }
        return;
      case 'Init':
        job.status = 'Executing';
        job.scheduling = 1;
        this.startCurrent(at);
        return;
      case 'Executing': {
        const task = this.byOrder[this.current];
        if (task !== undefined && task.status !== 'Executing') {
          // Only a job built inconsistently (an override) gets here: start the task it is at.
          this.startCurrent(at);
          return;
        }
        if (task !== undefined) {
          finishTask(task, 'Finished', at);
          this.current += 1;
        }
        if (this.current < this.byOrder.length) this.startCurrent(at);
        else endJob(job, 'Finished', at);
        return;
      }
      default:
        return;
    }
  }

  /**
   * One live tick, stamped `at`: a step on every `ticksPerStep`-th tick the job sees, and on the
   * ticks between, with `heartbeat`, a beat. O(1) apart from the step itself.
   */
  tick(at: number, pace: LivePace): void {
    this.liveTicks += 1;
    if (this.liveTicks % pace.ticksPerStep === 0) this.step(at);
    else if (pace.heartbeat) this.beat(at);
  }

  /** Live mode (re)starts: the count of ticks begins again, as for a job started now. */
  restartTicks(): void {
    this.liveTicks = 0;
  }

  /**
   * The sign of life a real executor gives between steps: the task the job is at (the Executing
   * one; in PreInit or Init the first, which is being prepared) gets updateTime `at`. Nothing
   * else changes, so every invariant of the lifecycle still holds.
   */
  private beat(at: number): void {
    const task = this.byOrder[this.current];
    if (task !== undefined && !this.finished) task.updateTime = at;
  }

  /**
   * Ends the job in Error or Timeout at `at`: the task it is at (the Executing one, or the first
   * not finished) takes that status; tasks after it stay not started.
   */
  fail(status: 'Error' | 'Timeout', at: number): void {
    if (this.finished) return;
    const task = this.byOrder[this.current];
    if (task !== undefined) {
      if (!task.startTime) task.startTime = at;
      finishTask(task, status, at);
      task.timeout = status === 'Timeout' ? 1 : -1;
    }
    endJob(this.job, status, at);
  }

  /**
   * How many steps take the job to `target` (Init, Executing or Finished): 0 when it is there.
   * Throws when the job is past it, or in a status outside the lifecycle.
   */
  stepsTo(target: 'Init' | 'Executing' | 'Finished'): number {
    const status = this.status;
    if (status === target) return 0;
    const from = RANK[status];
    const to = RANK[target] ?? 0;
    if (from === undefined || from >= to) throw new JobStateError(`job ${this.job.id} is ${status}: it cannot go to ${target}`);
    if (target !== 'Finished') return to - from;
    // Two steps to Executing, then one per task still to finish (the last one also ends the job);
    // a job with no task left still takes the step that ends it.
    const pending = this.byOrder[this.current];
    const restart = status === 'Executing' && pending !== undefined && pending.status !== 'Executing' ? 1 : 0;
    return Math.max(0, 2 - from) + Math.max(this.byOrder.length - this.current, 1) + restart;
  }

  private startCurrent(at: number): void {
    const task = this.byOrder[this.current];
    if (task === undefined) return;
    task.startTime = at;
    task.endTime = 0;
    setStatus(task, 'Executing', at);
  }
}

function setStatus(task: SimTask, status: string, at: number): void {
  task.status = status;
  task.updateTime = at;
}

function finishTask(task: SimTask, status: string, at: number): void {
  task.endTime = at;
  const startTime = task.startTime ?? at;
  // A fresh brief: one from an override may be shared with the caller's object.
  task.taskExecutorBrief = { description: task.taskExecutorBrief?.description ?? '', duration: at - startTime };
  setStatus(task, status, at);
}

function endJob(job: SimJob, status: string, at: number): void {
  job.status = status;
  job.scheduling = 0;
  job.endTime = at;
}
