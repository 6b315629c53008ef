import type { TaskExecutorResolvers, TaskResolvers } from '../generated/resolvers-types';
import { mapJobStatus, mapJobType } from '../../mapping/enums';
import { idString, taskOrder } from '../../mapping/job';
import { taskOutput, taskTimedOut } from '../../mapping/task';
import { epochMsOrNull } from '../../mapping/time';
import type { CseTask, CseTaskExecutorBrief } from '../models';
import { sentText } from './property';

const sent = sentText<CseTask>();

export const Task: TaskResolvers = {
  id: (task, _args, { budget }) => budget.sendText(idString(task.id)),
  jobId: (task, _args, { budget }) => budget.sendText(idString(task.jobId)),
  type: (task, _args, { reportUnknown }) => mapJobType(task.type, reportUnknown),
  assigned: sent('assigned'),
  name: sent('taskName'),
  engineName: sent('engineName'),
  order: taskOrder,
  status: (task, _args, { reportUnknown }) => mapJobStatus(task.status, reportUnknown),
  startTime: (task) => epochMsOrNull(task.startTime),
  endTime: (task) => epochMsOrNull(task.endTime),
  createTime: (task) => epochMsOrNull(task.createTime),
  updateTime: (task) => epochMsOrNull(task.updateTime),
  timedOut: (task) => taskTimedOut(task),
  log: sent('log'),
  // Parsed once per operation, however many aliases answer it (they copy tasks: keyed by the text).
  output: (task, _args, { budget }) => budget.sendJson(task.output, (caller, signal) => taskOutput(task.output, caller, signal)),
  executor: (task) => task.taskExecutorBrief ?? null,
};

export const TaskExecutor: TaskExecutorResolvers = {
  durationMs: (brief) => (typeof brief.duration === 'number' ? brief.duration : null),
  description: sentText<CseTaskExecutorBrief>()('description'),
};
