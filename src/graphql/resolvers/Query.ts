import { getArgumentValues, getNamedType, isObjectType, type GraphQLResolveInfo } from 'graphql';
import { GatewayError } from '../../errors/GatewayError';
import { ErrorCode } from '../../errors/codes';
import { assertEngineId, assertJobId } from '../../upstream/paths';
import type { CseEngine } from '../../upstream/types';
import type { GatewayContext } from '../context';
import type { QueryResolvers } from '../generated/resolvers-types';
import { engineConnection, sharedJobConnection } from './connections';
import { jobsOnlySelection } from './jobsOnlySelection';

export const Query: QueryResolvers = {
  engine: (_root, { id }, context, info) => engineById(assertEngineId(id, 'id'), context, info),
  engines: (_root, args, context) => engineConnection(args, context),
  job: (_root, { engineId, id }, { loaders }) =>
    loaders.job.load({ engineId: assertEngineId(engineId), jobId: assertJobId(id) }),
};

/**
 * An engine by id, or `null` when it does not exist.
 *
 * When the operation wants nothing of the engine but its id and its jobs, the engine details are
 * not fetched: the job-list call of the first `jobs` field answers "not found" for a missing
 * engine (one upstream call instead of two). That connection is resolved here, through the same
 * loaders and shared with `Engine.jobs`, so the field costs nothing more. Any other failure of
 * the list (bad arguments, upstream down) says nothing about existence: the details are fetched
 * then, exactly as without the shortcut, and `Engine.jobs` reports the list's error at its path.
 */
async function engineById(id: string, context: GatewayContext, info: GraphQLResolveInfo): Promise<CseEngine | null> {
  const engineType = getNamedType(info.returnType);
  if (!isObjectType(engineType)) return context.loaders.engine.load(id);
  const jobsNode = jobsOnlySelection(info, engineType);
  const jobsField = engineType.getFields().jobs;
  if (jobsNode === undefined || jobsField === undefined) return context.loaders.engine.load(id);
  try {
    await sharedJobConnection(id, getArgumentValues(jobsField, jobsNode, info.variableValues), context);
    return { id };
  } catch (error) {
    // Within a job connection, NOT_FOUND means only that the list call answered "not found".
    if (error instanceof GatewayError && error.code === ErrorCode.NOT_FOUND) return null;
    return context.loaders.engine.load(id);
  }
}
