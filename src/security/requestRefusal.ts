import { GatewayError, type GatewayErrorOptions } from '../errors/GatewayError';
import type { ErrorCode } from '../errors/codes';

/**
 * An error that refuses a whole request before execution, answered with HTTP 400. Apollo reads
 * `extensions.http` for the status of errors thrown from request hooks (its default would be
 * 500) and removes it before the response is written, so the client never sees it.
 */
export function requestRefusal(code: ErrorCode, message: string, options: GatewayErrorOptions = {}): GatewayError {
  const error = new GatewayError(code, message, options);
  error.extensions.http = { status: 400 };
  return error;
}
