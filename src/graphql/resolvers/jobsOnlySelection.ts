import type { FieldNode, GraphQLObjectType, GraphQLResolveInfo } from 'graphql';
// Not exported from graphql 16's root, but the executor's own field collection: in step with it.
import { collectSubfields } from 'graphql/execution/collectFields';

const LIST_ONLY_FIELDS: ReadonlySet<string> = new Set(['id', '__typename', 'jobs']);

/**
 * The first `jobs` field node when the Engine a field returns asks for nothing but `id`,
 * `__typename` and `jobs`; otherwise `undefined`.
 */
export function jobsOnlySelection(info: GraphQLResolveInfo, engineType: GraphQLObjectType): FieldNode | undefined {
  const fields = collectSubfields(info.schema, info.fragments, info.variableValues, engineType, info.fieldNodes);
  let jobs: FieldNode | undefined;
  for (const nodes of fields.values()) {
    const node = nodes[0];
    if (node === undefined) continue;
    const name = node.name.value;
    if (!LIST_ONLY_FIELDS.has(name)) return undefined;
    if (name === 'jobs') jobs ??= node;
  }
  return jobs;
}
