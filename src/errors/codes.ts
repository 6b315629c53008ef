import { GraphQLError } from 'graphql';

/** The closed set a client can see (docs/errors.md); formatError masks anything else. */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  UPSTREAM_ERROR: 'UPSTREAM_ERROR',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  UPSTREAM_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UPSTREAM_BAD_RESPONSE: 'UPSTREAM_BAD_RESPONSE',
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  PERSISTED_QUERY_NOT_IN_LIST: 'PERSISTED_QUERY_NOT_IN_LIST',
  OPERATION_NOT_SUPPORTED: 'OPERATION_NOT_SUPPORTED',
  DEFER_NOT_SUPPORTED: 'DEFER_NOT_SUPPORTED',
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  TOO_MANY_WATCHED: 'TOO_MANY_WATCHED',
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Apollo's own, for requests refused before execution: they describe the caller's request. */
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

export function isPublicErrorCode(code: unknown): code is ErrorCode | RequestErrorCode {
  return typeof code === 'string' && publicCodes.has(code);
}

/** The code a caller sees for an error (as `code` reads it): in the response, the access line and the metrics. */
export function publicCodeOf(
  error: unknown,
  code = (error as { extensions?: { code?: unknown } } | null)?.extensions?.code,
): ErrorCode | RequestErrorCode {
  const raw = error instanceof GraphQLError ? error : undefined;
  // Apollo codes every validation error GRAPHQL_VALIDATION_FAILED: our rule's code is on `originalError`.
  const rule = raw?.originalError instanceof GraphQLError ? raw.originalError.extensions.code : undefined;
  if (code === RequestErrorCode.GRAPHQL_VALIDATION_FAILED && rule === ErrorCode.DEFER_NOT_SUPPORTED) return rule;
  if (isPublicErrorCode(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) return code;
  // Apollo refuses some malformed requests (APQ) with HTTP 400 but no code: the caller's.
  const http = raw?.extensions.http as { status?: unknown } | undefined;
  const uncoded = raw !== undefined && raw.extensions.code === undefined && raw.path === undefined;
  if (uncoded && http?.status === 400) return RequestErrorCode.BAD_REQUEST;
  return ErrorCode.INTERNAL_SERVER_ERROR;
}
