import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { isObjectType, parse, type GraphQLSchema } from 'graphql';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolvers } from './resolvers';
import { withCostDirectives } from './federation/costDirectives';
import { failEntitiesOnceWhenCredentialsRefused } from './federation/entitiesField';
import { propertyOf } from './resolvers/property';

/** `schema/` is at the package root, above both src/ and dist/. */
export function loadTypeDefs(dir = join(__dirname, '..', '..', 'schema')): string {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.graphql'))
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('\n');
}

export function buildGatewaySchema(): GraphQLSchema {
  const schema = buildSubgraphSchema({
    typeDefs: withCostDirectives(parse(loadTypeDefs())),
    // The codegen `Resolvers` type is stricter than @apollo/subgraph's map; the shapes agree.
    resolvers: resolvers as unknown as GraphQLResolverMap<unknown>,
  });
  failEntitiesOnceWhenCredentialsRefused(schema);
  // See resolvers/property.
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (propertyOf(field.resolve) === field.name) field.resolve = undefined;
    }
  }
  return schema;
}
