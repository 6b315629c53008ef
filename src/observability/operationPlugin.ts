import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { tagError, type RequestRecord } from './requestRecord';

/** A context that knows the request it serves (see requestRecord). */
export interface ScopedContext extends BaseContext {
  readonly record: RequestRecord | undefined;
}

/**
 * Feeds Apollo's request lifecycle into the operation's facts, found on the context. Errors are
 * tagged with the request id, so the masking in `formatError` can name the request. The log line
 * is written when the HTTP exchange ends, so requests Apollo refuses before any hook are logged too.
 */
export function createOperationPlugin<TContext extends ScopedContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart(requestContext) {
      const record = requestContext.contextValue.record;
      // What Apollo keeps of the operation is let go of when the HTTP exchange ends (see ExchangeMemory).
      record?.memory?.hold(requestContext);
      const facts = record?.facts;
      if (record === undefined || facts === undefined) return;
      return {
        async didResolveOperation({ operationName, operation }) {
          facts.operationResolved(operationName, operation?.operation ?? null);
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors) tagError(error, record.requestId);
          facts.recordErrors(errors);
        },
        async willSendResponse({ response }) {
          const body = response.body;
          const data = body.kind === 'single' ? body.singleResult.data : true;
          facts.recordResponse(data !== undefined && data !== null);
        },
      };
    },
  };
}
