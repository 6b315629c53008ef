import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';

/**
 * Failures the gateway decides itself, without asking the upstream. Both are UPSTREAM_UNAVAILABLE
 * (a frontend does the same thing: wait and retry); `extensions.reason` tells them apart for
 * support and dashboards.
 */

/** A circuit breaker is open: the upstream (or this engine) kept failing; no call was made. */
export function circuitOpenError(scope: 'upstream' | 'engine', retryAfterMs: number): GatewayError {
  const message =
    scope === 'engine'
      ? 'The upstream keeps failing for this engine; the gateway is not calling it for a moment.'
      : 'The upstream cannot be reached; the gateway is not calling it for a moment.';
  return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, message, {
    retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)),
    details: { reason: 'CIRCUIT_OPEN' },
  });
}

/** Load shedding: too many upstream calls in flight and queued in this gateway. */
export function overloadedError(): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'The gateway is overloaded: too many upstream calls are waiting. Try again shortly.', {
    retryAfter: 1,
    details: { reason: 'OVERLOADED' },
  });
}
