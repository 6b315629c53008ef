import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { RequestRecord } from './requestRecord';
import { tagError } from './requestRecord';

/** A context that knows the request it serves (see requestRecord). */
export interface ScopedContext extends BaseContext {
  readonly record: RequestRecord | undefined;
}

/**
 * Feeds Apollo's request lifecycle into the operation's facts, found on the context. Errors
 * are tagged with the request id, so the masking in `formatError` can name the request in its log
 * line. The log line itself is written when the HTTP exchange ends, so requests Apollo refuses
 * before any plugin hook (a body that is not JSON, too large) are logged too; a context that fails
 * to build is reported by the context factory itself (this hook would not know the request).
 */
export function createOperationPlugin<TContext extends ScopedContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart(requestContext) {
      const record = requestContext.contextValue.record;
      // What Apollo keeps of the operation is let go of when the HTTP exchange ends (see ExchangeMemory).
      record?.memory?.hold(requestContext);
      const operation = record?.facts;
      if (record === undefined || operation === undefined) return;
      return {
        async didResolveOperation({ operationName, operation: definition }) {
          operation.operationResolved(operationName, definition?.operation ?? null);
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors) tagError(error, record.requestId);
          operation.recordErrors(errors);
        },
        async willSendResponse({ response }) {
          if (response.body.kind === 'single') {
            const data = response.body.singleResult.data;
            operation.recordResponse(data !== undefined && data !== null);
          } else {
            operation.recordResponse(true);
          }
        },
      };
    },
  };
}
