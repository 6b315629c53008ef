import { JOB_STATUS_TARGETS } from './progress';
import type { AdvanceJobOptions, JobPatch, JobStatusTarget, StartJobOptions, TickLiveOptions } from './types';

/**
 * Checks for the job controls' options. They arrive from TypeScript callers and as JSON over
 * `/__sim/`, so they are checked field by field, unknown fields included: a typo such as
 * `{ step: 3 }` would otherwise silently advance one step.
 */

export const DEFAULT_TASK_COUNT = 3;
/** Far beyond any test's need; it keeps a slip (a count in the millions) from eating the heap. */
export const MAX_TASK_COUNT = 10_000;

/** Ticks one tickLive call runs at most: each is O(running jobs), and they hold the event loop. */
export const MAX_TICKS_AT_ONCE = 10_000;

const START_KEYS = new Set<string>(['taskCount', 'type', 'description', 'context', 'createUser']);
const ADVANCE_KEYS = new Set<string>(['steps', 'to']);
const TICK_KEYS = new Set<string>(['ticks']);
const PATCH_KEYS = new Set<string>(['description', 'context', 'createUser', 'type']);
/** Fields a patch may not touch, each with where it is changed instead. */
const NOT_PATCHABLE: Readonly<Record<string, string>> = {
  status: 'advance the job instead',
  scheduling: 'it follows the status',
  endTime: 'it follows the status',
  startTime: 'it fixes the job\'s place in the list',
  tasks: 'tasks move with the job\'s progress',
  id: 'ids are assigned by the simulator',
  engineId: 'ids are assigned by the simulator',
};

export interface CheckedStart {
  taskCount: number;
  type?: string;
  description?: string;
  context?: string;
  createUser?: string;
}

export function checkStartJobOptions(input: unknown, caller: string): CheckedStart {
  const options = plainObject(input, `${caller}: options`);
  refuseUnknown(options, START_KEYS, caller);
  const checked: CheckedStart = { taskCount: checkTaskCount(options.taskCount ?? DEFAULT_TASK_COUNT, `${caller}: taskCount`) };
  for (const key of ['type', 'description', 'context', 'createUser'] as const) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new TypeError(`${caller}: ${key} must be a string, got ${describe(value)}`);
    checked[key] = value;
  }
  return checked;
}

export function checkTaskCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TASK_COUNT) {
    throw new RangeError(`${what} must be an integer from 1 to ${MAX_TASK_COUNT}, got ${describe(value)}`);
  }
  return value;
}

export type CheckedAdvance = { steps: number; to?: undefined } | { steps?: undefined; to: JobStatusTarget };

export function checkAdvanceJobOptions(input: unknown, caller: string): CheckedAdvance {
  const options = plainObject(input ?? {}, `${caller}: options`) as AdvanceJobOptions & Record<string, unknown>;
  refuseUnknown(options, ADVANCE_KEYS, caller);
  const { steps, to } = options;
  if (steps !== undefined && to !== undefined) throw new TypeError(`${caller}: give steps or to, not both`);
  if (to !== undefined) {
    if (!JOB_STATUS_TARGETS.includes(to)) throw new TypeError(`${caller}: to must be one of ${JOB_STATUS_TARGETS.join(', ')}, got ${describe(to)}`);
    return { to };
  }
  if (steps === undefined) return { steps: 1 };
  if (typeof steps !== 'number' || !Number.isSafeInteger(steps) || steps < 1) {
    throw new RangeError(`${caller}: steps must be a positive integer, got ${describe(steps)}`);
  }
  return { steps };
}

/** The number of ticks to run; `{}` means one. */
export function checkTickLiveOptions(input: unknown, caller: string): number {
  const options = plainObject(input ?? {}, `${caller}: options`) as TickLiveOptions & Record<string, unknown>;
  refuseUnknown(options, TICK_KEYS, caller);
  const ticks = options.ticks ?? 1;
  if (typeof ticks !== 'number' || !Number.isSafeInteger(ticks) || ticks < 1 || ticks > MAX_TICKS_AT_ONCE) {
    throw new RangeError(`${caller}: ticks must be an integer from 1 to ${MAX_TICKS_AT_ONCE}, got ${describe(ticks)}`);
  }
  return ticks;
}

export function checkJobPatch(input: unknown, caller: string): JobPatch {
  const patch = plainObject(input, `${caller}: patch`);
  const checked: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(patch)) {
    const reason = NOT_PATCHABLE[key];
    if (reason !== undefined) throw new TypeError(`${caller}: ${key} cannot be patched: ${reason}`);
    if (!PATCH_KEYS.has(key)) throw new TypeError(`${caller}: unknown field "${key}" (patchable: ${[...PATCH_KEYS].join(', ')})`);
    if (value !== null && typeof value !== 'string') throw new TypeError(`${caller}: ${key} must be a string or null, got ${describe(value)}`);
    checked[key] = value;
  }
  return checked as JobPatch;
}

function plainObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${what} must be an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

function refuseUnknown(value: Record<string, unknown>, known: ReadonlySet<string>, caller: string): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw new TypeError(`${caller}: unknown option "${key}" (known: ${[...known].join(', ')})`);
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
