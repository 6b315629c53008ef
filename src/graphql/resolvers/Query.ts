import { getArgumentValues, getNamedType, isObjectType, type FieldNode, type GraphQLResolveInfo } from 'graphql';
// Not exported from graphql 16's root, but the executor's own field collection: in step with it.
import { collectSubfields } from 'graphql/execution/collectFields';
import { GatewayError } from '../../errors/GatewayError';
import { ErrorCode } from '../../errors/codes';
import { assertEngineId, assertJobId } from '../../upstream/paths';
import type { CseEngine } from '../../upstream/types';
import type { GatewayContext } from '../context';
import type { QueryResolvers } from '../generated/resolvers-types';
import { engineConnection, jobConnectionOnce } from './connections';

export const Query: QueryResolvers = {
  engine: (_root, { id }, context, info) => engineById(assertEngineId(id, 'id'), context, info),
  engines: (_root, args, context) => engineConnection(args, context),
  job: (_root, { engineId, id }, { loaders }) =>
    loaders.job.load({ engineId: assertEngineId(engineId), jobId: assertJobId(id) }),
};

const LIST_ONLY_FIELDS: ReadonlySet<string> = new Set(['id', '__typename', 'jobs']);

/** An engine by id, or `null`. When the operation wants only its id and jobs, the job-list call
 * (reused by `Engine.jobs`) proves it exists: one upstream call instead of two. Any other
 * failure of the list says nothing about existence: the details are fetched as without it. */
async function engineById(id: string, context: GatewayContext, info: GraphQLResolveInfo): Promise<CseEngine | null> {
  const engineType = getNamedType(info.returnType);
  const jobsField = isObjectType(engineType) ? engineType.getFields().jobs : undefined;
  if (!isObjectType(engineType) || jobsField === undefined) return context.loaders.engine.load(id);
  let jobsNode: FieldNode | undefined;
  const { schema, fragments, variableValues, fieldNodes } = info;
  for (const [node] of collectSubfields(schema, fragments, variableValues, engineType, fieldNodes).values()) {
    if (!LIST_ONLY_FIELDS.has(node!.name.value)) return context.loaders.engine.load(id);
    if (node!.name.value === 'jobs') jobsNode ??= node;
  }
  if (jobsNode === undefined) return context.loaders.engine.load(id);
  try {
    await jobConnectionOnce(id, getArgumentValues(jobsField, jobsNode, info.variableValues), context);
    return { id };
  } catch (error) {
    if (error instanceof GatewayError && error.code === ErrorCode.NOT_FOUND) return null;
    return context.loaders.engine.load(id);
  }
}
