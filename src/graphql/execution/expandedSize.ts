import { getOperationAST, Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

/** An operation's fields with every fragment inlined and none merged: what graphql-jit writes, exponential
 * in the document at worst. Linear (each fragment counted once); cycles and an unknown operation count 0. */
export function expandedFieldCount(document: DocumentNode, operationName: string | null | undefined): number {
  const operation = getOperationAST(document, operationName);
  if (operation === null || operation === undefined) return 0;
  const fragments = fragmentsOf(document);
  const counted = new Map<string, number>();
  const expanding = new Set<string>();
  const count = (set: SelectionSetNode): number => {
    let fields = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        fields += 1 + (selection.selectionSet === undefined ? 0 : count(selection.selectionSet));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        fields += count(selection.selectionSet);
      } else {
        const name = selection.name.value;
        let known = counted.get(name);
        if (known === undefined) {
          const fragment = fragments.get(name);
          if (fragment === undefined || expanding.has(name)) continue;
          expanding.add(name);
          known = count(fragment.selectionSet);
          expanding.delete(name);
          counted.set(name, known);
        }
        fields += known;
      }
    }
    return fields;
  };
  return count(operation.selectionSet);
}

export function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return fragments;
}
