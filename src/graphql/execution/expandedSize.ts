import { getOperationAST, Kind, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

/** An operation's fields with every fragment inlined and none merged: what graphql-jit writes, exponential
 * in the document at worst. Linear (each fragment counted once); cycles and an unknown operation count 0. */
export function expandedFieldCount(document: DocumentNode, operationName: string | null | undefined): number {
  const operation = getOperationAST(document, operationName);
  if (operation === null || operation === undefined) return 0;
  const fragments = fragmentsOf(document);
  return fieldCounter((name) => fragments.get(name))(operation.selectionSet);
}

/** The fields one item of a list field selects, counted as expandedFieldCount does (at least 1): what
 * completing the item costs, but for the lists below it, which count once here and are paced apart. */
export function itemFieldCount(fieldNodes: readonly FieldNode[], fragments: Readonly<Record<string, FragmentDefinitionNode>>): number {
  const count = fieldCounter((name) => (Object.hasOwn(fragments, name) ? fragments[name] : undefined));
  let fields = 0;
  for (const node of fieldNodes) fields += node.selectionSet === undefined ? 0 : count(node.selectionSet);
  return Math.max(1, fields);
}

function fieldCounter(fragmentNamed: (name: string) => FragmentDefinitionNode | undefined): (set: SelectionSetNode) => number {
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
          const fragment = fragmentNamed(name);
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
  return count;
}

export function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return fragments;
}
