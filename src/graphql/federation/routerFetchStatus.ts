import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type OperationDefinitionNode } from 'graphql';
import { clientOperationName } from '../../observability/operationLabel';

/**
 * A refusal of a router's fetch (QUERY_TOO_COMPLEX on `_entities`, say) answered with HTTP 200
 * rather than 400, so that the router keeps its code.
 *
 * GraphQL over HTTP: a response of media type `application/json` SHOULD be 200 for every
 * well-formed request, whatever its errors; only `application/graphql-response+json` carries them
 * in the status. Routers ask for JSON (`@apollo/gateway` sends no Accept header at all, which
 * counts as `application/json`), and treat a non-2xx answer as a transport failure: the
 * subgraph's error and its code are replaced by "400: Bad Request" / INTERNAL_SERVER_ERROR.
 * Browsers and tools keep today's 400: the rule applies only to a router's fetches — federation's
 * own root fields, or an operation named as the query planner names its fetches — that do not
 * accept `application/graphql-response+json`.
 */
export function routerFetchStatusPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operation, request }) {
          const status = response.http.status;
          if (status === undefined || status < 400 || status >= 500 || operation === undefined || operation === null) return;
          if (!isRouterFetch(operation)) return;
          if (request.http?.headers.get('accept')?.includes('application/graphql-response+json') === true) return;
          response.http.status = 200;
        },
      };
    },
  };
}

const FEDERATION_ROOT_FIELDS = new Set(['_entities', '_service']);

function isRouterFetch(operation: OperationDefinitionNode): boolean {
  const name = operation.name?.value;
  if (name !== undefined && clientOperationName(name) !== name) return true;
  return operation.selectionSet.selections.some((selection) => selection.kind === Kind.FIELD && FEDERATION_ROOT_FIELDS.has(selection.name.value));
}
