import { isObjectType, Kind, type FieldNode, type GraphQLResolveInfo } from 'graphql';
import { buildGatewaySchema } from '../../src/graphql/buildSchema';
import { FETCHING_FIELDS, fetchingField } from '../../src/graphql/fetchingFields';

/**
 * The table of fetching fields is the one source the cost estimate and the cache hints read: a
 * resolver that reaches a loader (the only way a resolver gets to the upstream) without a
 * declaration would cost 0 and get no cache hint, silently. Every resolver of the schema is run
 * here against a context that records what it touches.
 */

const schema = buildGatewaySchema();

/** A parent of each type, as the upstream (or the pagination models) would hand it over. */
const engine = { id: 'e1', name: 'n', status: 'Available', latestJobId: 7, createTime: 1 };
const job = { id: 7, engineId: 'e1', status: 'Finished', type: 'Create', startTime: 1, endTime: 2, tasks: [] };
const pageInfo = { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null };
const PARENTS: Record<string, unknown> = {
  Query: {},
  Engine: engine,
  Job: job,
  Task: { id: 1, jobId: 7, taskOrder: 0, status: 'Finished', type: 'Create' },
  TaskExecutor: { duration: 5, description: 'd' },
  EngineEdge: { node: engine, position: 0, id: 'e1', connectionKey: 'k' },
  JobEdge: { node: job, position: 0, id: '7', connectionKey: 'k' },
  EngineConnection: { edges: [], nodes: [], pageInfo, totalCount: 0 },
  JobConnection: { edges: [], nodes: [], pageInfo, totalCount: 0 },
  PageInfo: pageInfo,
};
/** Arguments by name, valid for every field that takes them. */
const ARGUMENTS: Record<string, unknown> = { id: '7', engineId: 'e1', first: 1, representations: [{ __typename: 'Engine', id: 'e1' }] };

/** A context whose ways to the upstream record that they were reached. */
function recordingContext(touched: Set<string>) {
  const loader = { load: () => Promise.resolve(null), loadMany: () => Promise.resolve([]), prime: () => loader, clear: () => loader };
  const reaching = (name: string, target: object) =>
    new Proxy(target, {
      get(object, key) {
        touched.add(name);
        return key in object ? (object as Record<PropertyKey, unknown>)[key] : loader;
      },
    });
  return {
    record: undefined,
    credentials: { token: 'token-0123456789', projectId: 'p', enterpriseProjectId: undefined },
    loaders: reaching('loaders', { loadJobPage: () => Promise.resolve({ total: 0, data: [] }) }),
    references: reaching('references', {}),
    paging: { maxPageSize: 100, defaultPageSize: 20 },
    reportUnknown: () => {},
    jobConnections: new Map(),
    cachePolicy: undefined,
    facts: undefined,
  };
}

function infoFor(typeName: string, fieldName: string): GraphQLResolveInfo {
  const type = schema.getType(typeName);
  if (!isObjectType(type)) throw new Error(typeName);
  const field = type.getFields()[fieldName]!;
  const node: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: fieldName } };
  return { fieldName, fieldNodes: [node], returnType: field.type, parentType: type, path: { prev: undefined, key: fieldName, typename: typeName }, schema, fragments: {}, rootValue: undefined, operation: undefined as never, variableValues: {} };
}

const fields = Object.values(schema.getTypeMap())
  .filter((type) => isObjectType(type) && !type.name.startsWith('_'))
  .flatMap((type) => Object.values((type as { getFields(): Record<string, { name: string; resolve?: unknown }> }).getFields()).map((field) => [type.name, field.name, field] as const));

describe('every resolver that reaches a loader is declared in FETCHING_FIELDS', () => {
  it.each(fields.map(([type, name, field]) => [`${type}.${name}`, type, name, field] as const))('%s', async (_coordinate, type, name, field) => {
    const touched = new Set<string>();
    const resolve = field.resolve as ((...args: unknown[]) => unknown) | undefined;
    if (resolve !== undefined) {
      const args = Object.fromEntries(((schema.getType(type) as never as { getFields(): Record<string, { args: Array<{ name: string }> }> }).getFields()[name]!.args).map((arg) => [arg.name, ARGUMENTS[arg.name]]));
      try {
        await resolve(PARENTS[type], args, recordingContext(touched), infoFor(type, name));
      } catch {
        // A resolver may refuse the fixture; what it touched on the way is what counts.
      }
    }
    const declared = fetchingField(type, name) !== undefined;
    expect({ field: `${type}.${name}`, reachesTheUpstream: touched.size > 0, declared }).toEqual({ field: `${type}.${name}`, reachesTheUpstream: declared, declared });
  });

  it('declares only fields the schema has', () => {
    for (const coordinate of Object.keys(FETCHING_FIELDS)) {
      const [type, name] = coordinate.split('.') as [string, string];
      const found = schema.getType(type);
      expect(isObjectType(found) && found.getFields()[name] !== undefined).toBe(true);
    }
  });
});
