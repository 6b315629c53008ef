import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type OperationDefinitionNode } from 'graphql';
import { answerMediaType, GRAPHQL_RESPONSE_MEDIA_TYPE } from '../mediaType';
import { clientOperationName } from '../../observability/operationLabel';

/** A router takes a non-2xx as a transport failure: its refused fetches get 200 (docs/federation.md). */
export function routerFetchStatusPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operation, request }) {
          const status = response.http.status;
          if (status === undefined || status < 400 || status >= 500 || operation === undefined || operation === null) return;
          if (!isRouterFetch(operation)) return;
          if (answerMediaType(request.http?.headers.get('accept')) === GRAPHQL_RESPONSE_MEDIA_TYPE) return;
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
