import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import { GraphQLError, Kind, type DocumentNode } from 'graphql';
import { RequestErrorCode } from '../../errors/codes';
import type { ScopedContext } from '../../observability/operationPlugin';
import { tagError } from '../../observability/requestScope';

/**
 * Answers a document whose validation throws, instead of reporting an error, as the caller's
 * invalid document: HTTP 400 GRAPHQL_VALIDATION_FAILED, no error-level line.
 *
 * graphql-js 16's SingleFieldSubscriptionsRule collects a subscription's root fields with no
 * variables, so `@include(if: $i)` on a root field throws from inside `validate`. Apollo calls
 * `validate` outside any `try`: the throw would reach its "unexpected error" path, a masked 500
 * and two error lines quoting the caller's document. The current spec draft (and graphql-js 17)
 * rejects @skip/@include on a subscription's root fields as invalid, which is what this answer says.
 *
 * `unexpectedErrorProcessingRequest` is the hook Apollo calls on that path; an error it throws
 * becomes the response (with its `extensions.http` status) and Apollo writes no line of its own.
 */
export function validationThrowsPlugin<TContext extends ScopedContext>(): ApolloServerPlugin<TContext> {
  // Requests inside `validate` now: only a throw from there is the document's fault.
  const validating = new WeakSet<GraphQLRequestContext<TContext>>();
  return {
    async requestDidStart() {
      return {
        async validationDidStart(requestContext) {
          validating.add(requestContext);
          return async () => {
            validating.delete(requestContext);
          };
        },
      };
    },
    async unexpectedErrorProcessingRequest({ requestContext, error }) {
      if (!validating.has(requestContext) || !(error instanceof GraphQLError)) return;
      validating.delete(requestContext);
      const refusal = validationRefusal(error, requestContext.document);
      const scope = requestContext.contextValue.scope;
      if (scope !== undefined) tagError(refusal, scope.requestId);
      scope?.facts?.recordErrors([refusal]);
      throw refusal;
    },
  };
}

/** What the caller is told of a validation that threw: graphql's message, where, and the known cause. */
export function validationRefusal(thrown: GraphQLError, document: DocumentNode | undefined): GraphQLError {
  const subscription = document?.definitions.some((definition) => definition.kind === Kind.OPERATION_DEFINITION && definition.operation === 'subscription') === true;
  const message = subscription
    ? `A subscription's root field cannot be skipped or included (@skip/@include): ${thrown.message}`
    : `The document could not be validated: ${thrown.message}`;
  return new GraphQLError(message, { nodes: thrown.nodes, extensions: { code: RequestErrorCode.GRAPHQL_VALIDATION_FAILED, http: { status: 400 } } });
}
