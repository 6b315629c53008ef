import type { QueryResolvers } from '../generated/resolvers-types';
import { assertEngineId, assertJobId } from '../../upstream/paths';
import { engineConnection } from './connections';

export const Query: QueryResolvers = {
  engine: (_root, { id }, { loaders }) => loaders.engine.load(assertEngineId(id, 'id')),
  engines: (_root, args, context) => engineConnection(args, context),
  job: (_root, { engineId, id }, { loaders }) =>
    loaders.job.load({ engineId: assertEngineId(engineId), jobId: assertJobId(id) }),
};
