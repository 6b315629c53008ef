import { ErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
import type { CseIntegerId, CseJob, CseTask, CseTaskPhase } from '../upstream/types';

/**
 * An upstream id as the GraphQL `ID` string: integer ids arrive as numbers, or as digit strings
 * beyond 2^53. A missing id is the upstream's broken contract: an `ID!` cannot answer `null`.
 */
export function idString(raw: CseIntegerId | null | undefined): string {
  if (typeof raw === 'string' || (typeof raw === 'number' && Number.isFinite(raw))) return String(raw);
  throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 'The upstream sent an object without an id.');
}

/**
 * The job's tasks by `taskOrder` (stable; tasks without one last). The job list sends flat tasks,
 * job details send phases with their own `tasks`; both are accepted, even mixed. Not memoized per
 * job: a field reads it once, and a WeakMap entry per job costs every young-generation collection.
 */
export function jobTasks(job: CseJob): CseTask[] {
  const flat: CseTask[] = [];
  eachTask(job, (task) => flat.push(task));
  flat.sort((a, b) => compareNumbers(orderKey(a), orderKey(b)));
  return flat;
}

/** How many tasks {@link jobTasks} would answer: the bound is checked before the work. */
export function taskCount(job: CseJob): number {
  let count = 0;
  eachTask(job, () => (count += 1));
  return count;
}

function eachTask(job: CseJob, visit: (task: CseTask) => unknown): void {
  const entries: unknown = job.tasks;
  if (!Array.isArray(entries)) return;
  for (const entry of entries as unknown[]) {
    if (isPhase(entry)) {
      for (const task of entry.tasks as unknown[]) if (isObject(task)) visit(task as CseTask);
    } else if (isObject(entry)) {
      visit(entry as CseTask);
    }
  }
}

/** A phase is told from a task by its `tasks` array: tasks have none. */
function isPhase(entry: unknown): entry is CseTaskPhase {
  return isObject(entry) && Array.isArray((entry as { tasks?: unknown }).tasks);
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function orderKey(task: CseTask): number {
  const order: unknown = task.taskOrder;
  // +Infinity puts unordered tasks last; being equal to each other, they keep arrival order.
  return typeof order === 'number' && Number.isFinite(order) ? order : Number.POSITIVE_INFINITY;
}

function compareNumbers(a: number, b: number): number {
  // Not `a - b`: Infinity - Infinity is NaN.
  return a === b ? 0 : a < b ? -1 : 1;
}

/** `scheduling` is 1 while the upstream executes the job. */
export function isScheduling(job: Pick<CseJob, 'scheduling'>): boolean {
  return job.scheduling === 1;
}

/** The upstream sends `""` for a description nobody wrote; the schema promises `null`. */
export function emptyToNull(s: string | null | undefined): string | null {
  return s === undefined || s === null || s === '' ? null : s;
}
