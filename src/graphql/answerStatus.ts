import type { ApolloServerPlugin } from '@apollo/server';
import { answerMediaType, JSON_MEDIA_TYPE } from './mediaType';

/** Apollo's code for a request that is not a well-formed GraphQL-over-HTTP request (no query, CSRF …). */
const MALFORMED_REQUEST = 'BAD_REQUEST';

/**
 * GraphQL over HTTP, appendix A: an `application/json` answer to a well-formed request should not
 * be a 4xx, whatever request error it carries (parse, validation, variables, the gateway's own
 * refusals, a missing token), since a client cannot tell the server's 4xx from an intermediary's:
 * routers take one as a transport failure and drop the code. Apollo's statuses stay for
 * `application/graphql-response+json`, and for requests that are not well-formed.
 */
export function requestErrorStatus(status: number, codes: readonly unknown[], accept: string | undefined, batched = false): number {
  if (status < 400 || status >= 500 || codes.length === 0 || codes.includes(MALFORMED_REQUEST)) return status;
  // A batch is answered with an array, each operation's errors in its own answer: not one operation's status.
  if (batched) return 200;
  return answerMediaType(accept) === JSON_MEDIA_TYPE ? 200 : status;
}

/** {@link requestErrorStatus} for every answer Apollo's request pipeline sends. */
export function answerStatusPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, request, requestIsBatched }) {
          const { status } = response.http;
          if (status === undefined || response.body.kind !== 'single') return;
          const codes = (response.body.singleResult.errors ?? []).map((error) => error.extensions?.code);
          response.http.status = requestErrorStatus(status, codes, request.http?.headers.get('accept'), requestIsBatched);
        },
      };
    },
  };
}
