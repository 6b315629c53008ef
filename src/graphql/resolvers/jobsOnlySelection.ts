import type { FieldNode, GraphQLObjectType, GraphQLResolveInfo } from 'graphql';
// Not re-exported from the package root in graphql 16, but it is the executor's own field
// collection (fragments, type conditions, @skip/@include): using it keeps this check exactly in
// step with what execution will resolve.
import { collectSubfields } from 'graphql/execution/collectFields';

/** Fields of Engine whose values need nothing beyond the engine's id and its job list. */
const LIST_ONLY_FIELDS: ReadonlySet<string> = new Set(['id', '__typename', 'jobs']);

/**
 * When the Engine selected by a field (`info` is the field returning it, e.g. `Query.engine`)
 * asks for nothing but `id`, `__typename` and at least one `jobs`, the field node of the first
 * `jobs` (the node `Engine.jobs` will see first in its `info.fieldNodes`); otherwise `undefined`.
 *
 * Such an operation needs no engine details: the job-list call proves the engine exists.
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
