import { GraphQLError } from 'graphql';
import type { ErrorCode } from './codes';

/** What a client may learn of a failed upstream call: never its URL, token or body. */
export interface UpstreamErrorInfo {
  status?: number;
  code?: string;
  requestId?: string;
}

export interface GatewayErrorOptions {
  upstream?: UpstreamErrorInfo;
  retryAfter?: number;
  /** Sent to the client: never secrets. */
  details?: Record<string, unknown>;
  /** Kept for the log; never serialised to the client. */
  cause?: unknown;
}

/** An expected failure with a code from the closed set; the other fields still resolve. */
export class GatewayError extends GraphQLError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    const extensions: Record<string, unknown> = { code, ...options.details };
    if (options.upstream !== undefined) {
      const { status, code: upstreamCode, requestId } = options.upstream;
      const known = Object.entries({ status, code: upstreamCode, requestId });
      extensions.upstream = Object.fromEntries(known.filter(([, value]) => value !== undefined));
    }
    if (options.retryAfter !== undefined) extensions.retryAfter = options.retryAfter;
    super(message, { extensions, originalError: options.cause instanceof Error ? options.cause : undefined });
    this.name = 'GatewayError';
    this.code = code;
  }
}
