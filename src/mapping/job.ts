import { ErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
import type { CseIntegerId, CseJob, CseTask, CseTaskPhase } from '../upstream/types';

/** Integer ids arrive as numbers, or digit strings beyond 2^53; an `ID!` cannot answer a missing one. */
export function idString(raw: CseIntegerId | null | undefined): string {
  // Past 2^31 (task ids are) String() formats a heap number, slower than its two halves.
  if (typeof raw === 'number' && raw >= 2 ** 31 && Number.isSafeInteger(raw)) {
    return `${Math.floor(raw / 1e9)}${String(raw % 1e9).padStart(9, '0')}`;
  }
  if (typeof raw === 'string' || (typeof raw === 'number' && Number.isFinite(raw))) return String(raw);
  throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 'The upstream sent an object without an id.');
}

/** By {@link taskOrder}, equal orders in arrival order. Lists send flat tasks, details phases with their `tasks`,
 * both accepted even mixed. Not memoized: a WeakMap entry per job costs every young-generation GC. */
export function jobTasks(job: CseJob): CseTask[] {
  const flat: CseTask[] = [];
  eachTask(job, (task) => flat.push(task));
  flat.sort((a, b) => taskOrder(a) - taskOrder(b));
  return flat;
}

/** The bound is checked before the work. */
export function taskCount(job: CseJob): number {
  let count = 0;
  eachTask(job, () => (count += 1));
  return count;
}

function eachTask(job: CseJob, visit: (task: CseTask) => unknown): void {
  const entries: unknown = job.tasks;
  if (!Array.isArray(entries)) return;
  for (const entry of entries as unknown[]) {
    if (!isObject(entry)) continue;
    const phaseTasks: unknown = (entry as CseTaskPhase).tasks;
    // Tasks have no `tasks` array: this entry is a task, not a phase.
    if (!Array.isArray(phaseTasks)) visit(entry as CseTask);
    else for (const task of phaseTasks as unknown[]) if (isObject(task)) visit(task as CseTask);
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What tasks are sorted by and `Task.order` answers: `taskOrder` (a digit string too), 0 when it has none
 * an `Int` can answer. */
export function taskOrder(task: CseTask): number {
  const order: unknown = task.taskOrder;
  const value = typeof order === 'string' && /^-?\d{1,10}$/.test(order) ? Number(order) : order;
  return typeof value === 'number' && (value | 0) === value ? value : 0;
}

export function isScheduling(job: Pick<CseJob, 'scheduling'>): boolean {
  return job.scheduling === 1;
}

/** The upstream sends `""` for a description nobody wrote; the schema promises `null`. */
export function emptyToNull(s: string | null | undefined): string | null {
  return s === undefined || s === null || s === '' ? null : s;
}
