/**
 * Pure accessors over the upstream's job objects, for the thin Job resolvers.
 */
import { ErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
import type { CseIntegerId, CseJob, CseTask, CseTaskPhase } from '../upstream/types';

/**
 * An upstream id as the GraphQL `ID` string. Ids the docs call integers arrive as numbers, or as
 * digit strings when they exceed 2^53 (see the body parser); `String()` gives the same digits
 * for both.
 *
 * @throws {GatewayError} `UPSTREAM_BAD_RESPONSE` when the id is missing (or not a number or
 *   string): the upstream broke its own contract, and an `ID!` field cannot answer `null`
 */
export function idString(raw: CseIntegerId | null | undefined): string {
  // Checked at run time: the body guards do not validate nested objects such as tasks.
  if (typeof raw === 'string' || (typeof raw === 'number' && Number.isFinite(raw))) return String(raw);
  throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 'The upstream sent an object without an id.');
}

/**
 * The job's tasks in execution order.
 *
 * The job list sends flat tasks; job details (per the SDK) send phases, each with its own
 * `tasks` array. Both are accepted, even mixed: phases are flattened in the order they arrive,
 * then everything is sorted by `taskOrder` ascending. The sort is stable, so tasks with equal
 * orders keep their arrival order, and tasks without a usable `taskOrder` come last in arrival
 * order. Entries that are not objects are dropped.
 *
 * A new array on every call (the job itself is never modified). Not memoized per job: a field
 * reads it once, and a WeakMap entry per job object is one more ephemeron for every
 * young-generation collection to process, thousands per page.
 */
export function jobTasks(job: CseJob): CseTask[] {
  const flat: CseTask[] = [];
  const entries: unknown = job.tasks;
  if (Array.isArray(entries)) {
    for (const entry of entries as unknown[]) {
      if (isPhase(entry)) {
        for (const task of entry.tasks as unknown[]) if (isObject(task)) flat.push(task as CseTask);
      } else if (isObject(entry)) {
        flat.push(entry as CseTask);
      }
    }
  }
  // Array#sort is stable (ECMA-262 since 2019), which the ordering contract above relies on.
  flat.sort((a, b) => compareNumbers(orderKey(a), orderKey(b)));
  return flat;
}

/**
 * How many tasks {@link jobTasks} would answer, without building the list: a bound on a job's
 * tasks is checked before the work of flattening and sorting them.
 */
export function taskCount(job: CseJob): number {
  const entries: unknown = job.tasks;
  if (!Array.isArray(entries)) return 0;
  let count = 0;
  for (const entry of entries as unknown[]) {
    if (isPhase(entry)) {
      for (const task of entry.tasks as unknown[]) if (isObject(task)) count += 1;
    } else if (isObject(entry)) {
      count += 1;
    }
  }
  return count;
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

/** Whether the upstream is executing the job right now (`scheduling` is 1; 0 or absent: not). */
export function isScheduling(job: Pick<CseJob, 'scheduling'>): boolean {
  return job.scheduling === 1;
}

/**
 * `null` for an empty or missing string. The upstream sends `""` for a description nobody
 * wrote; the schema promises `null` then.
 */
export function emptyToNull(s: string | null | undefined): string | null {
  return s === undefined || s === null || s === '' ? null : s;
}
