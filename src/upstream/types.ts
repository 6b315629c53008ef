/**
 * The upstream's shapes (CSE engine-manager v2), widened where the public material varies: what
 * may arrive, not what should. Integer ids beyond 2^53 arrive as digit strings (see parseJson).
 * The guards check only the top level of a body, what the gateway cannot work without, and return
 * the input itself; the mapping layer reads nested fields defensively.
 */
import { UpstreamBodyError } from './parseJson';

/** An id the upstream sends as a JSON integer; a string when it would not fit a double exactly. */
export type CseIntegerId = number | string;

export interface CseTaskExecutorBrief {
  duration?: number | null;
  description?: string | null;
}

/** A task (sub-job), as both the job list and job details send it. */
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
  /** "Whether the sub-job timed out": 1 means it did; the documented example shows -1. */
  timeout?: number | null;
  log?: string | null;
  /** Usually JSON text; `{}` by default. */
  output?: string | null;
  taskExecutorBrief?: CseTaskExecutorBrief | null;
}

/** A phase (TaskSteps), the shape job details use per the SDK: tasks grouped under a name. */
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
  /** 0: not running, 1: running. */
  scheduling?: number | null;
  createUser?: string | null;
  startTime?: number | null;
  endTime?: number | null;
  context?: string | null;
  /** Flat tasks (job list) or phases (job details); both shapes must be accepted. */
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
  /** The engine's newest job. */
  latestJobId?: CseIntegerId | null;
}

/** A list answer: `total` counts every matching record, `data` is the requested page. */
export interface CseListBody<T> {
  total: number;
  data: T[];
}

type Obj = Record<string, unknown>;

/** The largest GraphQL `Int`. */
const MAX_TOTAL = 2_147_483_647;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A list answer: `{ total, data: [...] }`, or an array holding one (an older API page's variant).
 * A missing `total` counts `data`; one past GraphQL's Int is no real count.
 * @throws {UpstreamBodyError} for any other shape, or a `total` that is not a count
 */
export function asListBody(x: unknown): CseListBody<unknown> {
  const body = Array.isArray(x) && x.length === 1 ? (x[0] as unknown) : x;
  if (!isObject(body) || !Array.isArray(body.data)) {
    throw new UpstreamBodyError('The upstream list body has no `data` array.');
  }
  const total = body.total;
  if (total === undefined || total === null) {
    return { total: body.data.length, data: body.data as unknown[] };
  }
  if (typeof total !== 'number' || !Number.isInteger(total) || total < 0 || total > MAX_TOTAL) {
    throw new UpstreamBodyError('The upstream list body has a `total` that is not a count.');
  }
  return body as unknown as CseListBody<unknown>;
}

/** An engine: an object whose `id` is a non-empty string. @throws {UpstreamBodyError} otherwise */
export function asEngine(x: unknown): CseEngine {
  if (isObject(x) && typeof x.id === 'string' && x.id !== '') return x as unknown as CseEngine;
  throw new UpstreamBodyError('The upstream engine has no id.');
}

function isIntegerId(id: unknown): boolean {
  if (typeof id === 'number') return Number.isSafeInteger(id) && id >= 0;
  return typeof id === 'string' && /^\d+$/.test(id);
}

/** A job: an object whose `id` is a non-negative integer or digit string. @throws {UpstreamBodyError} */
export function asJob(x: unknown): CseJob {
  if (isObject(x) && isIntegerId(x.id)) return x as unknown as CseJob;
  throw new UpstreamBodyError('The upstream job has no integer id.');
}
