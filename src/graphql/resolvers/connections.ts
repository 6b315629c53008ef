import { GatewayError } from '../../errors/GatewayError';
import { ErrorCode } from '../../errors/codes';
import { idString } from '../../mapping/job';
import { parseConnectionArgs, type ConnectionArgs } from '../../pagination/args';
import { connectionKey, encodeCursor } from '../../pagination/cursor';
import { resolveConnection } from '../../pagination/resolveConnection';
import type { ConnectionModel, EdgeModel, PageInfoModel } from '../../pagination/resolveConnection';
import type { JobTimeFilter } from '../../upstream/CseApi';
import type { CseEngine, CseJob } from '../../upstream/types';
import type { ListSelection } from '../execution/operationBudget';
import type { GatewayContext } from '../context';
import type { EngineConnectionResolvers, EngineEdgeResolvers, JobEdgeResolvers } from '../generated/resolvers-types';
import type { JobConnectionResolvers, JobFilter, PageInfoResolvers } from '../generated/resolvers-types';
import { property } from './property';

export function engineConnection(args: ConnectionArgs, context: GatewayContext): Promise<ConnectionModel<CseEngine>> {
  const { credentials, loaders, paging } = context;
  const key = connectionKey(['engines', credentials.projectId, credentials.enterpriseProjectId]);
  const parsed = parseConnectionArgs(args, { ...paging, key });
  const options = { maxPageSize: paging.maxPageSize, key, idOf: (engine: CseEngine) => engine.id };
  return resolveConnection(parsed, (call) => loaders.enginePage.load(call), options);
}

/** Cursors are bound to the project, engine and filter. Bad arguments reject, as a failed call does. */
export async function jobConnection(
  engineId: string,
  args: ConnectionArgs & { filter?: JobFilter | null },
  context: GatewayContext,
): Promise<ConnectionModel<CseJob>> {
  const { credentials, loaders, paging } = context;
  const filter = timeFilter(args.filter);
  const key = connectionKey(['jobs', credentials.projectId, credentials.enterpriseProjectId, engineId, filter.from, filter.to]);
  const parsed = parseConnectionArgs(args, { ...paging, key });
  return resolveConnection(
    parsed,
    async (call) => {
      const page = await loaders.loadJobPage({ engineId, filter, call });
      if (page === null) {
        throw new GatewayError(ErrorCode.NOT_FOUND, 'The engine no longer exists, so its jobs cannot be listed.');
      }
      return page;
    },
    { maxPageSize: paging.maxPageSize, key, idOf: (job) => idString(job.id) },
  );
}

/** Once per operation for one engine and arguments: `Engine.jobs` finds what `Query.engine` started. */
export function jobConnectionOnce(
  engineId: string,
  args: ConnectionArgs & { filter?: JobFilter | null },
  context: GatewayContext,
): Promise<ConnectionModel<CseJob>> {
  const key = `${engineId}\u0000${JSON.stringify(args)}`;
  const known = context.jobConnections.get(key);
  if (known !== undefined) return known;
  const connection = jobConnection(engineId, args, context);
  context.jobConnections.set(key, connection);
  return connection;
}

function timeFilter(filter: JobFilter | null | undefined): JobTimeFilter {
  const from = filter?.from ?? undefined;
  const to = filter?.to ?? undefined;
  if (from !== undefined && to !== undefined && from > to) {
    throw new GatewayError(ErrorCode.BAD_USER_INPUT, 'filter.from must not be later than filter.to.', {
      details: { argumentName: 'filter' },
    });
  }
  return { from, to };
}

const cursorOf = <T>(edge: EdgeModel<T>) => encodeCursor(edge.connectionKey, edge.position, edge.id);

export const EngineEdge: EngineEdgeResolvers = { cursor: cursorOf, node: property<EdgeModel<CseEngine>>()('node') };
export const JobEdge: JobEdgeResolvers = { cursor: cursorOf, node: property<EdgeModel<CseJob>>()('node') };

/** A page's items, paced as a job's tasks are: many aliases of one page continue in one turn once it arrives. */
const pacedItems =
  <T, K extends 'edges' | 'nodes'>(key: K) =>
  (connection: ConnectionModel<T>, _args: unknown, { budget }: GatewayContext, info: ListSelection): ConnectionModel<T>[K] | Promise<ConnectionModel<T>[K]> =>
    budget.paced(connection[key].length, info, () => connection[key]);

function connectionResolvers<T>() {
  const own = property<ConnectionModel<T>>();
  return { edges: pacedItems<T, 'edges'>('edges'), nodes: pacedItems<T, 'nodes'>('nodes'), pageInfo: own('pageInfo'), totalCount: own('totalCount') };
}

export const EngineConnection: EngineConnectionResolvers = connectionResolvers<CseEngine>();
export const JobConnection: JobConnectionResolvers = connectionResolvers<CseJob>();

const page = property<PageInfoModel>();
export const PageInfo: PageInfoResolvers = {
  hasNextPage: page('hasNextPage'),
  hasPreviousPage: page('hasPreviousPage'),
  startCursor: page('startCursor'),
  endCursor: page('endCursor'),
};
