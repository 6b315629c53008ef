import type { Resolvers } from '../generated/resolvers-types';
import { DateTimeScalar, JSONScalar } from '../scalars';
import { EngineConnection, EngineEdge, JobConnection, JobEdge, PageInfo } from './connections';
import { Engine } from './Engine';
import { Job } from './Job';
import { Query } from './Query';
import { JobEvent, Subscription } from './Subscription';
import { Task, TaskExecutor } from './Task';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  Query,
  Subscription,
  JobEvent,
  Engine,
  EngineConnection,
  EngineEdge,
  Job,
  JobConnection,
  JobEdge,
  PageInfo,
  Task,
  TaskExecutor,
};
