import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { randomUUID } from 'node:crypto';
import { ErrorCode, isPublicErrorCode, RequestErrorCode } from '../errors/codes';
import type { Logger } from '../observability/logger';
import { requestIdOfError } from '../observability/requestRecord';

/** Anything without a code of the closed set is a bug: masked, with a correlation id also logged. */
export function createFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const ruleCode = codeOfValidationRule(formatted, error);
    if (ruleCode !== undefined) return { ...formatted, extensions: { ...formatted.extensions, code: ruleCode } };
    const code = formatted.extensions?.code;
    if (isPublicErrorCode(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) return formatted;
    // Apollo refuses some malformed requests (APQ) with HTTP 400 but no code: the caller's.
    if (isUncodedBadRequest(error)) {
      return { ...formatted, extensions: { ...formatted.extensions, code: RequestErrorCode.BAD_REQUEST } };
    }
    const correlationId = randomUUID();
    logger.error({ requestId: requestIdOfError(error), err: error, correlationId, path: formatted.path }, 'unexpected error while executing an operation');
    return {
      message: 'Internal server error',
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, correlationId },
    };
  };
}

function isUncodedBadRequest(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.extensions.code !== undefined || error.path !== undefined) return false;
  const http = error.extensions.http as { status?: unknown } | undefined;
  return http?.status === 400;
}

/** Apollo codes every validation error GRAPHQL_VALIDATION_FAILED: our rule's code is on `originalError`. */
function codeOfValidationRule(formatted: GraphQLFormattedError, error: unknown): ErrorCode | undefined {
  if (formatted.extensions?.code !== RequestErrorCode.GRAPHQL_VALIDATION_FAILED || !(error instanceof GraphQLError)) return undefined;
  const original = error.originalError;
  if (!(original instanceof GraphQLError)) return undefined;
  const code = original.extensions.code;
  return code === ErrorCode.DEFER_NOT_SUPPORTED ? code : undefined;
}
