import { GraphQLError } from 'graphql';
import type { ErrorCode } from './codes';

/** What the gateway may tell a client about a failed upstream call: never its URL, token or body. */
export interface UpstreamErrorInfo {
  status?: number;
  /** The upstream's error code (e.g. `SVCSTG.00501116`, `APIG.0301`), when its body had one. */
  code?: string;
  /** The upstream's `X-Request-Id` (or body `request_id`), for Huawei support. */
  requestId?: string;
}

export interface GatewayErrorOptions {
  upstream?: UpstreamErrorInfo;
  /** Seconds the caller should wait before trying again (429/503 with `Retry-After`). */
  retryAfter?: number;
  /** Extra machine-readable facts (e.g. the argument at fault). Must never hold secrets. */
  details?: Record<string, unknown>;
  /** The underlying error, kept for the log; never serialised to the client. */
  cause?: unknown;
}

/**
 * An expected failure with a code from the closed set. Thrown (or returned from a DataLoader
 * batch) anywhere below the resolvers; graphql-js turns it into an entry of `errors[]` with the
 * field path, and the other fields still resolve.
 */
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
    const cause = options.cause instanceof Error ? options.cause : undefined;
    super(message, { extensions, originalError: cause });
    this.name = 'GatewayError';
    this.code = code;
  }
}
