import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { isObjectType, parse, type GraphQLSchema } from 'graphql';
import { resolvers } from './resolvers';
import { withCostDirectives } from './federation/costDirectives';
import { propertyOf } from './resolvers/property';
import { loadTypeDefs } from './schema';

/**
 * The executable schema: the SDL of `schema/` with its resolvers, built as an Apollo Federation 2
 * subgraph (adds `_service`, `_entities` and the `@key` entity types' `__resolveReference`), with
 * the cost directives a router's demand control reads, written from the fetching-fields table
 * (see federation/costDirectives): `_service { sdl }` and `schema:print` carry them.
 */
export function buildGatewaySchema(typeDefs: string = loadTypeDefs()): GraphQLSchema {
  const schema = buildSubgraphSchema({
    typeDefs: withCostDirectives(parse(typeDefs)),
    // The codegen `Resolvers` type is stricter than @apollo/subgraph's map; the shapes agree.
    resolvers: resolvers as unknown as GraphQLResolverMap<unknown>,
  });
  return withPlainPropertiesDefault(schema);
}

/**
 * Takes the resolvers made by `property` (see resolvers/property) off the fields whose own name
 * they read, so graphql's default resolver reads the property instead — the same value, and what
 * graphql-jit compiles to a direct property read. Returns the same schema, changed in place.
 */
export function withPlainPropertiesDefault(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (propertyOf(field.resolve) === field.name) field.resolve = undefined;
    }
  }
  return schema;
}
