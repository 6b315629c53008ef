import type { TaskExecutorResolvers, TaskResolvers } from '../generated/resolvers-types';
import { mapJobStatus, mapJobType } from '../../mapping/enums';
import { idString } from '../../mapping/job';
import { taskOutput, taskTimedOut } from '../../mapping/task';
import { epochMsOrNull } from '../../mapping/time';
import type { CseTask, CseTaskExecutorBrief } from '../models';
import { property } from './property';

const own = property<CseTask>();

export const Task: TaskResolvers = {
  id: (task) => idString(task.id),
  jobId: (task) => idString(task.jobId),
  type: (task, _args, { reportUnknown }) => mapJobType(task.type, reportUnknown),
  assigned: own('assigned'),
  name: (task) => task.taskName ?? null,
  engineName: own('engineName'),
  order: (task) => task.taskOrder ?? 0,
  status: (task, _args, { reportUnknown }) => mapJobStatus(task.status, reportUnknown),
  startTime: (task) => epochMsOrNull(task.startTime),
  endTime: (task) => epochMsOrNull(task.endTime),
  createTime: (task) => epochMsOrNull(task.createTime),
  updateTime: (task) => epochMsOrNull(task.updateTime),
  timedOut: (task) => taskTimedOut(task),
  // Free text of any length: each copy the response holds counts against the operation's bound.
  log: (task, _args, { budget }) => budget.sendText(task.log ?? null),
  // Its text counts like the log's, before it is parsed (again, for each copy).
  output: (task, _args, { budget }) => taskOutput(typeof task.output === 'string' ? budget.sendText(task.output) : task.output),
  executor: (task) => task.taskExecutorBrief ?? null,
};

export const TaskExecutor: TaskExecutorResolvers = {
  durationMs: (brief) => (typeof brief.duration === 'number' ? brief.duration : null),
  description: property<CseTaskExecutorBrief>()('description'),
};
