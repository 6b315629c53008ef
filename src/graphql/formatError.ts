import type { GraphQLFormattedError } from 'graphql';
import { randomUUID } from 'node:crypto';
import { ErrorCode, publicCodeOf } from '../errors/codes';
import type { Logger } from '../observability/logger';
import { requestIdOfError } from '../observability/requestRecord';

/** Anything without a code of the closed set is a bug: masked, with a correlation id also logged. */
export function createFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = publicCodeOf(error, formatted.extensions?.code);
    if (code === formatted.extensions?.code && code !== ErrorCode.INTERNAL_SERVER_ERROR) return formatted;
    if (code !== ErrorCode.INTERNAL_SERVER_ERROR) return { ...formatted, extensions: { ...formatted.extensions, code } };
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
