import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';
import { classifyTransportError } from '../errorMapping';
import { decideRetry } from '../resilience/retryDecision';
import { remainingMs, type AttemptHandler, type CallHandler } from './types';

export interface RetryOptions {
  /** Retries after the first attempt (`CSE_RETRIES`). */
  readonly retries: number;
  /** First backoff step (`CSE_RETRY_BASE_MS`). */
  readonly retryBaseMs: number;
  /** The jitter source, in [0, 1). */
  readonly random: () => number;
}

const NEVER = new AbortController().signal;

/**
 * Turns attempts into a call: tries again while `decideRetry` allows and the deadline leaves
 * room (backoff with jitter, or the upstream's `Retry-After`), and reports every attempt. An
 * attempt stage that throws ends the call at once: that is the gateway refusing, not the upstream
 * failing.
 */
export function retryStage(options: RetryOptions): (next: AttemptHandler) => CallHandler {
  return (next) => async (call) => {
    const signal = call.signal ?? NEVER;
    for (let attempt = 0; ; attempt += 1) {
      const remaining = remainingMs(call.request.deadline);
      if (remaining <= 0) throw deadlinePassed();
      const result = await next({ ...call, signal, attempt });
      call.events.attempt?.({
        route: call.route,
        status: result.status,
        durationMs: result.durationMs,
        outcome: result.ok ? result.answer.kind : 'error',
        attempt,
      });
      if (result.ok) return result.answer;
      if (result.kind === 'cancelled') throw result.error;
      const retryAfter = result.error.extensions.retryAfter;
      const decision = decideRetry({
        kind: result.kind,
        status: result.status,
        retryAfterMs: typeof retryAfter === 'number' ? retryAfter * 1000 : undefined,
        retriesDone: attempt,
        maxRetries: options.retries,
        remainingMs: remainingMs(call.request.deadline),
        baseMs: options.retryBaseMs,
        random: options.random(),
      });
      if (!decision.retry) throw result.error;
      try {
        await sleep(decision.delayMs, undefined, { signal });
      } catch (reason) {
        throw classifyTransportError(reason);
      }
    }
  };
}

function deadlinePassed(): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_TIMEOUT, 'The operation ran out of time before the upstream answered.');
}
