/**
 * The upstream's shapes (CSE engine-manager v2), widened where the public material varies: what
 * may arrive, not what should. Integer ids beyond 2^53 arrive as digit strings (see parseJson).
 */

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
