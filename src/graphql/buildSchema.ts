import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { isObjectType, parse, type GraphQLSchema } from 'graphql';
import { resolvers } from './resolvers';
import { withCostDirectives } from './federation/costDirectives';
import { propertyOf } from './resolvers/property';
import { loadTypeDefs } from './schema';

/** The SDL of `schema/` with its resolvers and cost directives, as a Federation 2 subgraph. */
export function buildGatewaySchema(typeDefs: string = loadTypeDefs()): GraphQLSchema {
  const schema = buildSubgraphSchema({
    typeDefs: withCostDirectives(parse(typeDefs)),
    // The codegen `Resolvers` type is stricter than @apollo/subgraph's map; the shapes agree.
    resolvers: resolvers as unknown as GraphQLResolverMap<unknown>,
  });
  return withPlainPropertiesDefault(schema);
}

/** Takes `property` resolvers off the fields whose own name they read (see resolvers/property). */
export function withPlainPropertiesDefault(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (propertyOf(field.resolve) === field.name) field.resolve = undefined;
    }
  }
  return schema;
}
