import { getArgumentValues, getNamedType, isObjectType, type GraphQLResolveInfo } from 'graphql';
import { GatewayError } from '../../errors/GatewayError';
import { ErrorCode } from '../../errors/codes';
import { assertEngineId, assertJobId } from '../../upstream/paths';
import type { CseEngine } from '../../upstream/types';
import type { GatewayContext } from '../context';
import type { QueryResolvers } from '../generated/resolvers-types';
import { engineConnection, jobConnectionOnce } from './connections';
import { jobsOnlySelection } from './jobsOnlySelection';

export const Query: QueryResolvers = {
  engine: (_root, { id }, context, info) => engineById(assertEngineId(id, 'id'), context, info),
  engines: (_root, args, context) => engineConnection(args, context),
  job: (_root, { engineId, id }, { loaders }) =>
    loaders.job.load({ engineId: assertEngineId(engineId), jobId: assertJobId(id) }),
};

/**
 * An engine by id, or `null`. When the operation wants only its id and jobs, the job-list call
 * (reused by `Engine.jobs`) proves it exists: one upstream call instead of two. Any other
 * failure of the list says nothing about existence: the details are fetched as without it.
 */
async function engineById(id: string, context: GatewayContext, info: GraphQLResolveInfo): Promise<CseEngine | null> {
  const engineType = getNamedType(info.returnType);
  if (!isObjectType(engineType)) return context.loaders.engine.load(id);
  const jobsNode = jobsOnlySelection(info, engineType);
  const jobsField = engineType.getFields().jobs;
  if (jobsNode === undefined || jobsField === undefined) return context.loaders.engine.load(id);
  try {
    await jobConnectionOnce(id, getArgumentValues(jobsField, jobsNode, info.variableValues), context);
    return { id };
  } catch (error) {
    if (error instanceof GatewayError && error.code === ErrorCode.NOT_FOUND) return null;
    return context.loaders.engine.load(id);
  }
}
