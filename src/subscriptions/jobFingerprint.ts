import { createHash } from 'node:crypto';
import { mapJobStatus, mapJobType } from '../mapping/enums';
import { emptyToNull, isScheduling, jobTasks, taskCount } from '../mapping/job';
import { MAX_OUTPUT_DEPTH, nestsDeeperThan, taskTimedOut } from '../mapping/task';
import { epochMsOrNull } from '../mapping/time';
import type { CseJob } from '../upstream/types';

/** From the resolvers' mappings, not the raw body: lists send flat tasks, details phases; enums drift.
 * `maxTasks`: past it a job's tasks are counted, not compared (a long step to walk them all). */
export function jobFingerprint(job: CseJob, maxTasks: number): string {
  const count = taskCount(job);
  const tasks = count > maxTasks ? ['<too many tasks>', count] : jobTasks(job).map((task) => [
    comparable(task.id),
    comparable(task.jobId),
    mapJobType(task.type),
    comparable(task.assigned),
    comparable(task.taskName),
    comparable(task.engineName),
    comparable(task.taskOrder),
    mapJobStatus(task.status),
    epochMsOrNull(task.startTime),
    epochMsOrNull(task.endTime),
    epochMsOrNull(task.createTime),
    epochMsOrNull(task.updateTime),
    taskTimedOut(task),
    comparable(task.log),
    comparable(task.output),
    task.taskExecutorBrief == null,
    comparable(task.taskExecutorBrief?.duration),
    comparable(task.taskExecutorBrief?.description),
  ]);
  return JSON.stringify([
    comparable(job.id),
    comparable(job.engineId),
    mapJobType(job.type),
    comparable(emptyToNull(job.description)),
    mapJobStatus(job.status),
    isScheduling(job),
    comparable(job.createUser),
    epochMsOrNull(job.startTime),
    epochMsOrNull(job.endTime),
    comparable(job.context),
    tasks,
  ]);
}

/** What a watch keeps of a fingerprint: a page of large jobs would keep their text between polls. */
export function fingerprintDigest(fingerprint: string): string {
  return createHash('sha256').update(fingerprint).digest('base64');
}

/** A raw value as JSON compares it, but one nested past what any field answers (its field errs)
 * by a marker: stringifying it would overflow the stack. */
function comparable(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  return nestsDeeperThan(value, MAX_OUTPUT_DEPTH) ? '<nested too deep>' : value;
}
