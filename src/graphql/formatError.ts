import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { randomUUID } from 'node:crypto';
import { ErrorCode, isPublicErrorCode, RequestErrorCode } from '../errors/codes';
import type { Logger } from '../observability/logger';
import { requestIdOfError } from '../observability/requestScope';

/**
 * Apollo's `formatError`: expected errors (a code from the closed set) pass through; anything
 * else is a bug, masked as INTERNAL_SERVER_ERROR with a correlation id that also goes into the
 * log line (with the request id, when the error was tagged with it: see `tagError`), so support
 * can find the details without the client ever seeing them.
 */
export function createFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const ruleCode = codeOfValidationRule(formatted, error);
    if (ruleCode !== undefined) return { ...formatted, extensions: { ...formatted.extensions, code: ruleCode } };
    const code = formatted.extensions?.code;
    if (isPublicErrorCode(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      return formatted;
    }
    // Apollo refuses some malformed requests (an APQ hash that does not match its query, an
    // unsupported APQ version) with HTTP 400 but no code: they are the caller's, not bugs.
    if (isUncodedBadRequest(error)) {
      return { ...formatted, extensions: { ...formatted.extensions, code: RequestErrorCode.BAD_REQUEST } };
    }
    const correlationId = randomUUID();
    logger.error({ requestId: requestIdOfError(error), err: error, correlationId, path: formatted.path }, 'unexpected error while executing an operation');
    const masked: GraphQLFormattedError = {
      message: 'Internal server error',
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, correlationId },
    };
    return masked;
  };
}

function isUncodedBadRequest(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.extensions.code !== undefined || error.path !== undefined) return false;
  const http = error.extensions.http as { status?: unknown } | undefined;
  return http?.status === 400;
}

/**
 * The code a validation rule of ours gave its refusal (DEFER_NOT_SUPPORTED): Apollo wraps every
 * validation error as GRAPHQL_VALIDATION_FAILED, over the rule's own code, and keeps the rule's
 * error as `originalError`.
 */
function codeOfValidationRule(formatted: GraphQLFormattedError, error: unknown): ErrorCode | undefined {
  if (formatted.extensions?.code !== RequestErrorCode.GRAPHQL_VALIDATION_FAILED || !(error instanceof GraphQLError)) return undefined;
  const original = error.originalError;
  if (!(original instanceof GraphQLError)) return undefined;
  const code = original.extensions.code;
  return code === ErrorCode.DEFER_NOT_SUPPORTED ? code : undefined;
}
