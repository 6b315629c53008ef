import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import { refusalOf } from '../errors/refusedText';
import { tagError, type RequestRecord } from './requestRecord';

/** Apollo's lifecycle into the operation's facts; errors tagged so `formatError` can name the request. */
export function createOperationPlugin<
  TContext extends BaseContext & { readonly record: RequestRecord | undefined },
>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart(requestContext) {
      const record = requestContext.contextValue.record;
      record?.held?.push(requestContext);
      const facts = record?.telemetry?.facts;
      if (record === undefined || facts === undefined) return;
      return {
        async didResolveOperation({ operationName, operation, document }) {
          // A refused text's stand-in, taken in place of parsing it: no operation was resolved.
          if (refusalOf(document) !== undefined) return;
          facts.operationResolved(operationName, operation?.operation ?? null);
        },
        async didEncounterErrors({ contextValue, errors }) {
          recordOperationErrors(contextValue, errors);
        },
        async willSendResponse({ response }) {
          const body = response.body;
          const data = body.kind === 'single' ? body.singleResult.data : true;
          facts.hasData = data !== undefined && data !== null;
        },
      };
    },
  };
}

/** Apollo's `didEncounterErrors`, also heard from the execution plugin (Apollo skips the hook for its response). */
export function recordOperationErrors(
  { record }: { readonly record: RequestRecord | undefined },
  errors: readonly GraphQLError[],
): void {
  const facts = record?.telemetry?.facts;
  if (record === undefined || facts === undefined) return;
  for (const error of errors) tagError(error, record.requestId);
  facts.recordErrors(errors);
}
