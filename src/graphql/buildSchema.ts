import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type GraphQLSchema } from 'graphql';
import type { GatewayContext } from './context';
import { resolvers } from './resolvers';
import { loadTypeDefs } from './schema';

/**
 * The executable schema: the SDL of `schema/` with its resolvers, built as an Apollo Federation 2
 * subgraph (adds `_service`, `_entities` and the `@key` entity types' `__resolveReference`).
 */
export function buildGatewaySchema(typeDefs: string = loadTypeDefs()): GraphQLSchema {
  return buildSubgraphSchema({
    typeDefs: parse(typeDefs),
    // The codegen `Resolvers` type is stricter than @apollo/subgraph's map; the shapes agree.
    resolvers: resolvers as unknown as GraphQLResolverMap<unknown>,
  });
}
