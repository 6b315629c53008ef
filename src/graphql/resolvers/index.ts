import type { Resolvers } from '../generated/resolvers-types';
import { DateTimeScalar, JSONScalar } from '../scalars';
import { EngineEdge, JobEdge } from './connections';
import { Engine } from './Engine';
import { Job } from './Job';
import { Query } from './Query';
import { Task, TaskExecutor } from './Task';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  Query,
  Engine,
  EngineEdge,
  Job,
  JobEdge,
  Task,
  TaskExecutor,
};
