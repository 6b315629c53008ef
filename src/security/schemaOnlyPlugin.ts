import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../graphql/context';
import { isSchemaOnly } from './admission';

/**
 * Credentials are needed for the upstream, not for the schema: an operation that selects only
 * `__schema`, `__type` and `__typename` at its root (introspection, as codegen and IDE plugins
 * send it without a token) runs without them, while introspection is enabled (validation refuses
 * it otherwise). Any other operation of a caller whose credentials were refused is refused with
 * that error (401 UNAUTHENTICATED, or 400 for a malformed header) before it runs, ahead of the
 * admission's refusals.
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
