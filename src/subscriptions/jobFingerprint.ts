import { mapJobStatus, mapJobType, shown } from '../mapping/enums';
import { emptyToNull, isScheduling, jobTasks } from '../mapping/job';
import { taskTimedOut } from '../mapping/task';
import { epochMsOrNull } from '../mapping/time';
import type { CseJob } from '../upstream/types';

/** From the resolvers' mappings, not the raw body: lists send flat tasks, details phases; enums drift.
 * Raw fields as text: a value the upstream nested without end is never walked (its field errs). */
export function jobFingerprint(job: CseJob): string {
  const tasks = jobTasks(job).map((task) => [
    shown(task.id),
    shown(task.jobId),
    mapJobType(task.type),
    shown(task.assigned),
    shown(task.taskName),
    shown(task.engineName),
    shown(task.taskOrder),
    mapJobStatus(task.status),
    epochMsOrNull(task.startTime),
    epochMsOrNull(task.endTime),
    epochMsOrNull(task.createTime),
    epochMsOrNull(task.updateTime),
    taskTimedOut(task),
    shown(task.log),
    shown(task.output),
    shown(task.taskExecutorBrief?.duration),
    shown(task.taskExecutorBrief?.description),
  ]);
  return JSON.stringify([
    shown(job.id),
    shown(job.engineId),
    mapJobType(job.type),
    shown(emptyToNull(job.description)),
    mapJobStatus(job.status),
    isScheduling(job),
    shown(job.createUser),
    epochMsOrNull(job.startTime),
    epochMsOrNull(job.endTime),
    shown(job.context),
    tasks,
  ]);
}
