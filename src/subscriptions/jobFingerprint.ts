import { mapJobStatus, mapJobType } from '../mapping/enums';
import { emptyToNull, isScheduling, jobTasks } from '../mapping/job';
import { taskTimedOut } from '../mapping/task';
import { epochMsOrNull } from '../mapping/time';
import type { CseJob } from '../upstream/types';

/** From the resolvers' mappings, not the raw body: lists send flat tasks, details phases; enums drift. */
export function jobFingerprint(job: CseJob): string {
  const tasks = jobTasks(job).map((task) => [
    task.id,
    task.jobId,
    mapJobType(task.type),
    task.assigned,
    task.taskName,
    task.engineName,
    task.taskOrder,
    mapJobStatus(task.status),
    epochMsOrNull(task.startTime),
    epochMsOrNull(task.endTime),
    epochMsOrNull(task.createTime),
    epochMsOrNull(task.updateTime),
    taskTimedOut(task),
    task.log,
    task.output,
    task.taskExecutorBrief?.duration,
    task.taskExecutorBrief?.description,
  ]);
  return JSON.stringify([
    String(job.id),
    job.engineId,
    mapJobType(job.type),
    emptyToNull(job.description),
    mapJobStatus(job.status),
    isScheduling(job),
    job.createUser,
    epochMsOrNull(job.startTime),
    epochMsOrNull(job.endTime),
    job.context,
    tasks,
  ]);
}
