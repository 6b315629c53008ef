import { getOperationAST, Kind, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

/** An operation's fields with every fragment inlined and none merged: what graphql-jit writes, exponential
 * in the document at worst. Linear (each fragment counted once); cycles and an unknown operation count 0. */
export function expandedFieldCount(document: DocumentNode, operationName: string | null | undefined): number {
  const operation = getOperationAST(document, operationName);
  if (operation === null || operation === undefined) return 0;
  const fragments = fragmentsOf(document);
  return fieldCounter((name) => fragments.get(name))(operation.selectionSet).fields;
}

/** What one item of a list field selects, its fragments inlined as expandedFieldCount inlines them:
 * `fields` (at least 1), what completing the item costs, and `keyBytes`, its answer's keys (aliases
 * included) as JSON writes them (`"key":`). The lists below it count once here, and again when paced. */
export type ItemSize = { readonly fields: number; readonly keyBytes: number };

export function itemSize(fieldNodes: readonly FieldNode[], fragments: Readonly<Record<string, FragmentDefinitionNode>>): ItemSize {
  const count = fieldCounter((name) => (Object.hasOwn(fragments, name) ? fragments[name] : undefined));
  let fields = 0;
  let keyBytes = 0;
  for (const node of fieldNodes) {
    if (node.selectionSet === undefined) continue;
    const size = count(node.selectionSet);
    fields += size.fields;
    keyBytes += size.keyBytes;
  }
  return { fields: Math.max(1, fields), keyBytes };
}

/** `"key":` and the comma after it. */
const KEY_SYNTAX_BYTES = 4;

function fieldCounter(fragmentNamed: (name: string) => FragmentDefinitionNode | undefined): (set: SelectionSetNode) => ItemSize {
  const counted = new Map<string, ItemSize>();
  const expanding = new Set<string>();
  const count = (set: SelectionSetNode): ItemSize => {
    let fields = 0;
    let keyBytes = 0;
    const add = (size: ItemSize) => {
      fields += size.fields;
      keyBytes += size.keyBytes;
    };
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        fields += 1;
        keyBytes += (selection.alias ?? selection.name).value.length + KEY_SYNTAX_BYTES;
        if (selection.selectionSet !== undefined) add(count(selection.selectionSet));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        add(count(selection.selectionSet));
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
        add(known);
      }
    }
    return { fields, keyBytes };
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
