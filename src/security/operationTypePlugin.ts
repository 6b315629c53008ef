import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode } from '../errors/codes';
import { requestRefusal } from './requestRefusal';

/**
 * Refuses, before execution, the operation types this endpoint does not serve, with HTTP 400 and
 * OPERATION_NOT_SUPPORTED: a mutation (the schema has none: the gateway only reads) and a
 * subscription over HTTP. graphql-js would otherwise fail them during execution with an error
 * without a code — masked as INTERNAL_SERVER_ERROR and logged as a gateway bug, though the
 * request is the caller's mistake.
 */
export function operationTypePlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation === undefined || operation.operation === 'query') return;
          throw requestRefusal(
            ErrorCode.OPERATION_NOT_SUPPORTED,
            operation.operation === 'mutation'
              ? 'This gateway has no mutations: it only reads.'
              : 'Subscriptions are not served over HTTP by this gateway: open a WebSocket (graphql-transport-ws) to this same URL.',
            { details: { operationType: operation.operation } },
          );
        },
      };
    },
  };
}
