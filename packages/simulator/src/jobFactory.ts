import type { SimJob, SimTask, WireInteger } from './model';

/**
 * Builds jobs and their tasks the way the upstream shapes them, for the seed and for `addJobs`.
 * Everything is derived from the inputs (no clock, no randomness) so two simulators built alike
 * answer byte for byte alike.
 */

/** Statuses after which the upstream never changes a job again. */
const TERMINAL = new Set(['Finished', 'Error', 'Timeout']);
/** Statuses of work that has not started: no start or end time yet. */
const NOT_STARTED = new Set(['Init', 'PreInit']);

const EXECUTORS = [
  { taskName: 'TenantTaskExecutor', description: 'Tenant processing' },
  { taskName: 'ResourceTaskExecutor', description: 'Resource provisioning' },
  { taskName: 'ConfigCenterTaskExecutor', description: 'Configuration sync' },
] as const;

const JOB_DURATION_MS = 30_000;
const TASK_SPACING_MS = 8_000;
const TASK_DURATION_MS = 6_000;

export interface JobSpec {
  id: number;
  engineId: string;
  engineName: string;
  type: string;
  status: string;
  startTime: number;
  taskCount: number;
  /** Hands out task ids; called once per task, in taskOrder. */
  nextTaskId: () => WireInteger;
  description?: string;
  context?: string;
  createUser?: string;
  /** Per-taskOrder statuses; by default derived from the job status. */
  taskStatuses?: readonly string[];
  /** The taskOrders in array order, for the upstream's unsorted task arrays. */
  arrayOrder?: readonly number[];
  /** Field overrides per taskOrder. */
  taskTweaks?: Readonly<Record<number, Partial<SimTask>>>;
}

export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}

export function makeJob(spec: JobSpec): SimJob {
  const terminal = isTerminal(spec.status);
  const endTime = terminal ? spec.startTime + JOB_DURATION_MS + (spec.id % 5) * 1_000 : 0;
  const byOrder: SimTask[] = [];
  for (let order = 0; order < spec.taskCount; order++) {
    const status = spec.taskStatuses?.[order] ?? defaultTaskStatus(spec.status, order, spec.taskCount);
    const task = makeTask(spec, order, status, spec.nextTaskId());
    byOrder.push({ ...task, ...spec.taskTweaks?.[order] });
  }
  const tasks = spec.arrayOrder ? spec.arrayOrder.map((order) => pick(byOrder, order)) : byOrder;
  return {
    id: spec.id,
    engineId: spec.engineId,
    type: spec.type,
    description: spec.description ?? '',
    status: spec.status,
    scheduling: spec.status === 'Executing' ? 1 : 0,
    createUser: spec.createUser ?? 'demo-user',
    startTime: spec.startTime,
    endTime,
    context: spec.context ?? JSON.stringify({ engineName: spec.engineName, jobType: spec.type }),
    tasks,
  };
}

/**
 * What a task's status is while its job has a given status: tasks run in taskOrder, so a
 * failed or running job has finished everything before the task it stopped at.
 */
function defaultTaskStatus(jobStatus: string, order: number, count: number): string {
  switch (jobStatus) {
    case 'Finished':
      return 'Finished';
    case 'Error':
    case 'Timeout':
      return order === count - 1 ? jobStatus : 'Finished';
    case 'Executing': {
      const running = Math.min(1, count - 1);
      if (order < running) return 'Finished';
      return order === running ? 'Executing' : 'Init';
    }
    default:
      return jobStatus;
  }
}

function makeTask(spec: JobSpec, order: number, status: string, id: WireInteger): SimTask {
  const executor = EXECUTORS[order % EXECUTORS.length] ?? EXECUTORS[0];
  const createTime = spec.startTime + 10;
  const started = !NOT_STARTED.has(status);
  const startTime = started ? spec.startTime + 1_000 + order * TASK_SPACING_MS : 0;
  const endTime = started && isTerminal(status) ? startTime + TASK_DURATION_MS : 0;
  return {
    jobId: spec.id,
    id,
    type: spec.type,
    assigned: `cse-executor-${(order % 2) + 1}`,
    taskName: executor.taskName,
    engineName: spec.engineName,
    taskOrder: order,
    status,
    startTime,
    endTime,
    createTime,
    updateTime: (endTime || startTime || createTime) + 15,
    timeout: status === 'Timeout' ? 1 : -1,
    log: '',
    output: '{}',
    taskExecutorBrief: { duration: endTime > 0 ? endTime - startTime : 0, description: executor.description },
  };
}

function pick(tasks: readonly SimTask[], order: number): SimTask {
  const task = tasks[order];
  if (!task) throw new RangeError(`arrayOrder names taskOrder ${order}, which the job does not have`);
  return task;
}
