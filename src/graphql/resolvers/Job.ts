import type { JobResolvers } from '../generated/resolvers-types';
import { mapJobStatus, mapJobType } from '../../mapping/enums';
import { emptyToNull, idString, isScheduling, jobTasks, taskCount } from '../../mapping/job';
import { durationMs, epochMsOrNull } from '../../mapping/time';
import { entityCopy, jobKeyOf } from '../federation/referenceKeys';
import type { CseJob } from '../models';
import { sentText } from './property';

const sent = sentText<CseJob>();

export const Job: JobResolvers = {
  __resolveReference: async (reference, { loaders }) => entityCopy(await loaders.job.load(jobKeyOf(reference))),
  id: (job, _args, { budget }) => budget.sendText(idString(job.id)),
  // Always set: CseApi completes it from the request path when the body leaves it out.
  engineId: (job, _args, { budget }) => budget.sendText(job.engineId ?? ''),
  // Every job of a page waits for the same engine: each continues, or fails, in its turn.
  engine: (job, _args, { loaders, budget }, info) =>
    job.engineId
      ? loaders.engine.load(job.engineId).then(
          (engine) => budget.pacedObject(info, engine),
          (error: unknown) => budget.failInTurn(error),
        )
      : null,
  type: (job, _args, { reportUnknown }) => mapJobType(job.type, reportUnknown),
  description: (job, _args, { budget }) => budget.sendText(emptyToNull(job.description)),
  status: (job, _args, { reportUnknown }) => mapJobStatus(job.status, reportUnknown),
  scheduling: (job) => isScheduling(job),
  createUser: sent('createUser'),
  startTime: (job) => epochMsOrNull(job.startTime),
  endTime: (job) => epochMsOrNull(job.endTime),
  durationMs: (job) => durationMs(job.startTime, job.endTime),
  context: sent('context'),
  tasks: (job, _args, { budget }, info) => {
    const count = taskCount(job);
    try {
      budget.sendList(count);
    } catch (error) {
      return budget.failInTurn(error);
    }
    return budget.paced(count, info, () => {
      // Tasks inside phases may leave out their job id; the job they came in is the answer.
      const tasks = jobTasks(job);
      tasks.forEach((task, i) => {
        if (task.jobId === undefined || task.jobId === null) tasks[i] = { ...task, jobId: job.id };
      });
      return tasks;
    });
  },
};
