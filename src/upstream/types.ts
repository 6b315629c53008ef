import { MAX_CURSOR_POSITION } from '../pagination/cursor';
import { UpstreamBodyError } from './parseJson';

// What may arrive: guards check the top level the gateway needs; mapping reads the rest defensively.

/** A string when it would not fit a double exactly. */
export type CseIntegerId = number | string;

export interface CseTaskExecutorBrief {
  duration?: number | null;
  description?: string | null;
}

export interface CseTask {
  jobId?: CseIntegerId | null;
  id: CseIntegerId;
  type?: string | null;
  assigned?: string | null;
  taskName?: string | null;
  engineName?: string | null;
  taskOrder?: number | null;
  status?: string | null;
  startTime?: number | null;
  endTime?: number | null;
  createTime?: number | null;
  updateTime?: number | null;
  /** 1: the sub-job timed out; the documented example shows -1. */
  timeout?: number | null;
  log?: string | null;
  output?: string | null;
  taskExecutorBrief?: CseTaskExecutorBrief | null;
}

/** TaskSteps: job details per the SDK group tasks under a name. */
export interface CseTaskPhase {
  taskName?: string | null;
  taskNames?: string[] | null;
  status?: string | null;
  startTime?: number | null;
  endTime?: number | null;
  taskExecutorBrief?: CseTaskExecutorBrief | null;
  tasks: CseTask[];
}

export interface CseJob {
  id: CseIntegerId;
  engineId?: string | null;
  type?: string | null;
  description?: string | null;
  status?: string | null;
  scheduling?: number | null;
  createUser?: string | null;
  startTime?: number | null;
  endTime?: number | null;
  context?: string | null;
  tasks?: Array<CseTask | CseTaskPhase> | null;
}

export interface CseEngine {
  id: string;
  name?: string | null;
  description?: string | null;
  type?: string | null;
  flavor?: string | null;
  payment?: string | null;
  authType?: string | null;
  status?: string | null;
  version?: string | null;
  latestVersion?: string | null;
  createUser?: string | null;
  createTime?: number | null;
  enterpriseProjectId?: string | null;
  enterpriseProjectName?: string | null;
  specType?: string | null;
  latestJobId?: CseIntegerId | null;
}

/** Every item of a list has a position a cursor can hold. */
const MAX_LIST_TOTAL = MAX_CURSOR_POSITION + 1;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{ total, data }`, or an array holding one (an older page's variant); a missing `total` counts `data`. */
export function asListBody(x: unknown): { total: number; data: unknown[] } {
  const body = Array.isArray(x) && x.length === 1 ? (x[0] as unknown) : x;
  if (!isObject(body) || !Array.isArray(body.data)) {
    throw new UpstreamBodyError('The upstream list body has no `data` array.');
  }
  const total = body.total;
  if (total === undefined || total === null) return { total: body.data.length, data: body.data as unknown[] };
  if (typeof total !== 'number' || !Number.isInteger(total) || total < 0 || total > MAX_LIST_TOTAL) {
    throw new UpstreamBodyError('The upstream list body has a `total` that is not a count.');
  }
  return body as unknown as { total: number; data: unknown[] };
}

export function asEngine(x: unknown): CseEngine {
  if (isObject(x) && typeof x.id === 'string' && x.id !== '') return x as unknown as CseEngine;
  throw new UpstreamBodyError('The upstream engine has no id.');
}

function isIntegerId(id: unknown): boolean {
  if (typeof id === 'number') return Number.isSafeInteger(id) && id >= 0;
  return typeof id === 'string' && /^\d+$/.test(id);
}

export function asJob(x: unknown): CseJob {
  if (isObject(x) && isIntegerId(x.id)) return x as unknown as CseJob;
  throw new UpstreamBodyError('The upstream job has no integer id.');
}
