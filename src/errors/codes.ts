/**
 * The closed set of `extensions.code` values a client can see. Anything else that reaches the
 * response is masked as INTERNAL_SERVER_ERROR (see `formatError`). docs/errors.md lists them with
 * what a frontend should do about each.
 */
export const ErrorCode = {
  /** No token, or the upstream refused it (HTTP 401). Ask the user to sign in again. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** The token is valid but may not see this project or resource (HTTP 403). */
  FORBIDDEN: 'FORBIDDEN',
  /** Arguments, cursors or headers the gateway refuses before calling the upstream. */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** Something that must exist does not, where the schema cannot answer `null`. */
  NOT_FOUND: 'NOT_FOUND',
  /** The upstream throttled the caller (HTTP 429). */
  RATE_LIMITED: 'RATE_LIMITED',
  /** Any other 4xx/5xx answer from the upstream. */
  UPSTREAM_ERROR: 'UPSTREAM_ERROR',
  /** The upstream could not be reached, or said it is unavailable (HTTP 503). */
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  /** The upstream did not answer in time. */
  UPSTREAM_TIMEOUT: 'UPSTREAM_TIMEOUT',
  /** The upstream answered 2xx with a body that is not the JSON it documents. */
  UPSTREAM_BAD_RESPONSE: 'UPSTREAM_BAD_RESPONSE',
  /** The operation's worst-case number of upstream calls is above MAX_UPSTREAM_CALLS. */
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  /** PERSISTED_QUERIES=safelist and the operation is not in the manifest. */
  PERSISTED_QUERY_NOT_IN_LIST: 'PERSISTED_QUERY_NOT_IN_LIST',
  /** A mutation (the gateway has none), or a subscription sent over HTTP. */
  OPERATION_NOT_SUPPORTED: 'OPERATION_NOT_SUPPORTED',
  /**
   * `@defer` or `@stream` (incremental delivery): the gateway answers every operation whole.
   * Split the operation instead (see docs/federation.md).
   */
  DEFER_NOT_SUPPORTED: 'DEFER_NOT_SUPPORTED',
  /**
   * A subscribe past SUBSCRIPTION_MAX_PER_CONNECTION (this socket) or SUBSCRIPTION_MAX_TOTAL (the
   * process): close a subscription, or open another socket, or retry later.
   */
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  /**
   * A subscribe to one more job or engine than one credential scope may watch
   * (SUBSCRIPTION_MAX_WATCHED_PER_SCOPE): watch the engine rather than many jobs.
   */
  TOO_MANY_WATCHED: 'TOO_MANY_WATCHED',
  /**
   * A field past what one operation may gather or send: OPERATION_MAX_UPSTREAM_BYTES of upstream
   * answers, or MAX_LIST_ITEMS items in one list. The operation's other fields keep their data.
   */
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  /** A bug in the gateway. Masked; the log has the details. */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Codes Apollo Server itself produces for requests it rejects before execution (unparseable
 * document, validation failures, malformed HTTP requests, persisted-query protocol). They pass
 * through unchanged: they describe the caller's request, never the upstream.
 */
export const RequestErrorCode = {
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  BAD_REQUEST: 'BAD_REQUEST',
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_QUERY_NOT_SUPPORTED',
} as const;

export type RequestErrorCode = (typeof RequestErrorCode)[keyof typeof RequestErrorCode];

const publicCodes: ReadonlySet<string> = new Set<string>([
  ...Object.values(ErrorCode),
  ...Object.values(RequestErrorCode),
]);

/** Whether `code` belongs to the closed set a client may see. */
export function isPublicErrorCode(code: unknown): code is ErrorCode | RequestErrorCode {
  return typeof code === 'string' && publicCodes.has(code);
}
