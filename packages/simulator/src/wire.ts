/**
 * The engine-manager v2 shapes the simulator serves and takes in its controls (see the shared API
 * notes). Declared here, not imported from the gateway: the simulator models the upstream, and the
 * gateway's own types describe what it must cope with, which is wider.
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
  timeout?: number | null;
  log?: string | null;
  output?: string | null;
  taskExecutorBrief?: CseTaskExecutorBrief | null;
}

/** A phase: tasks grouped under a name, as job details may send them. */
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
