import type { JobResolvers } from '../generated/resolvers-types';
import { mapJobStatus, mapJobType } from '../../mapping/enums';
import { emptyToNull, idString, isScheduling, jobTasks, taskCount } from '../../mapping/job';
import { durationMs, epochMsOrNull } from '../../mapping/time';
import { entityCopy, jobKeyOf } from '../federation/referenceKeys';
import type { CseJob } from '../models';
import { property } from './property';

const own = property<CseJob>();

export const Job: JobResolvers = {
  __resolveReference: async (reference, { loaders }) => entityCopy(await loaders.job.load(jobKeyOf(reference))),
  id: (job) => idString(job.id),
  // Always set: CseApi completes it from the request path when the body leaves it out.
  engineId: (job) => job.engineId ?? '',
  engine: (job, _args, { loaders }) => (job.engineId ? loaders.engine.load(job.engineId) : null),
  type: (job, _args, { reportUnknown }) => mapJobType(job.type, reportUnknown),
  description: (job) => emptyToNull(job.description),
  status: (job, _args, { reportUnknown }) => mapJobStatus(job.status, reportUnknown),
  scheduling: (job) => isScheduling(job),
  createUser: own('createUser'),
  startTime: (job) => epochMsOrNull(job.startTime),
  endTime: (job) => epochMsOrNull(job.endTime),
  durationMs: (job) => durationMs(job.startTime, job.endTime),
  // Free text of any length: each copy the response holds counts against the operation's bound.
  context: (job, _args, { budget }) => budget.sendText(job.context ?? null),
  tasks: (job, _args, { budget }) => {
    const count = taskCount(job);
    budget.checkList(count);
    return budget.paced(count, () => {
      // Tasks inside phases may leave out their job id; the job they came in is the answer.
      const tasks = jobTasks(job);
      tasks.forEach((task, i) => {
        if (task.jobId === undefined || task.jobId === null) tasks[i] = { ...task, jobId: job.id };
      });
      return tasks;
    });
  },
};
