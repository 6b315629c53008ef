import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { currentRequestScope } from './requestScope';

/**
 * Feeds Apollo's request lifecycle into the operation's telemetry (found through the request
 * scope, because a context that failed to build — no token — still deserves a log line). The
 * log line itself is written when the HTTP exchange ends, so requests Apollo refuses before
 * any plugin hook (a body that is not JSON, too large) are logged too.
 */
export function createOperationPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async contextCreationDidFail({ error }) {
      currentRequestScope()?.operation?.recordErrors([error]);
    },
    async invalidRequestWasReceived({ error }) {
      currentRequestScope()?.operation?.recordErrors([error]);
    },
    async requestDidStart() {
      const operation = currentRequestScope()?.operation;
      if (operation === undefined) return;
      return {
        async didResolveOperation({ operationName, operation: definition }) {
          operation.operationResolved(operationName, definition?.operation ?? null);
        },
        async didEncounterErrors({ errors }) {
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
