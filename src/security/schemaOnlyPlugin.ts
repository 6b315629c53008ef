import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { GatewayContext } from '../graphql/context';

/**
 * Credentials are needed for the upstream, not for the schema: an operation that selects only
 * `__schema`, `__type` and `__typename` at its root (introspection, as codegen and IDE plugins
 * send it without a token) runs without them, while introspection is enabled (validation refuses
 * it otherwise). Any other operation of a caller whose credentials were refused is refused with
 * that error (401 UNAUTHENTICATED, or 400 for a malformed header) before it runs: the first of
 * the checks after validation, as the refusal came first before.
 */
export function schemaOnlyPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operation, document }) {
          const refusal = contextValue.credentialRefusal;
          if (refusal === undefined) return;
          if (operation !== undefined && operation !== null && isSchemaOnly(document, operation)) return;
          throw refusal;
        },
      };
    },
  };
}

/**
 * Whether every root field the operation selects, through fragments of any depth, is an
 * introspection field. Each fragment is visited once: linear in the document.
 */
export function isSchemaOnly(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const visited = new Set<string>();
  const pending: SelectionSetNode[] = [operation.selectionSet];
  for (let set = pending.pop(); set !== undefined; set = pending.pop()) {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (!selection.name.value.startsWith('__')) return false;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        pending.push(selection.selectionSet);
      } else if (!visited.has(selection.name.value)) {
        visited.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment === undefined) return false;
        pending.push(fragment.selectionSet);
      }
    }
  }
  return true;
}
