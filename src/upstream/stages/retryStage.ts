import { sleepUnlessAborted } from '../../cache/abort';
import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';
import { throwClassified } from '../errorMapping';
import { NEVER, remainingMs, type AttemptHandler, type CallHandler } from './types';

export interface RetryOptions {
  readonly retries: number;
  readonly retryBaseMs: number;
  readonly random: () => number;
}

/** An attempt stage that throws ends the call at once: that is the gateway refusing, not the upstream. */
export function retryStage(options: RetryOptions): (next: AttemptHandler) => CallHandler {
  return (next) => async (call) => {
    const signal = call.signal ?? NEVER;
    for (let attempt = 0; ; attempt += 1) {
      if (remainingMs(call.request.deadline) <= 0) {
        const message = 'The operation ran out of time before the upstream answered.';
        throw new GatewayError(ErrorCode.UPSTREAM_TIMEOUT, message);
      }
      const result = await next({ ...call, signal, attempt });
      const { status, durationMs } = result;
      const outcome = result.ok ? result.answer.kind : 'error';
      call.events.attempt?.({ route: call.route, status, durationMs, outcome, attempt });
      if (result.ok) return result.answer;
      const { retryAfter } = result.error.extensions;
      const decision = decideRetry({
        retry: result.retry && result.kind !== 'cancelled',
        retryAfterMs: typeof retryAfter === 'number' ? retryAfter * 1000 : undefined,
        retriesDone: attempt,
        maxRetries: options.retries,
        remainingMs: remainingMs(call.request.deadline),
        baseMs: options.retryBaseMs,
        random: options.random(),
      });
      if (!decision.retry) throw result.error;
      await sleepUnlessAborted(decision.delayMs, signal).catch(throwClassified);
    }
  };
}

export const MAX_BACKOFF_MS = 5000;

export interface RetryInput {
  readonly retry: boolean;
  readonly retryAfterMs: number | undefined;
  readonly retriesDone: number;
  readonly maxRetries: number;
  readonly remainingMs: number;
  readonly baseMs: number;
  /** The jitter, in [0, 1). */
  readonly random: number;
}

export type RetryDecision = { readonly retry: false } | { readonly retry: true; readonly delayMs: number };

// A `Retry-After` past the deadline gives up at once (the error carries it for the frontend) rather
// than wait for a certain timeout; jitter, so callers who failed together do not come back together.
// `Retry-After` is the least wait: one of 0, or a date gone by, still waits the backoff.
export function decideRetry(input: RetryInput): RetryDecision {
  if (!input.retry || input.retriesDone >= input.maxRetries) return { retry: false };
  const delayMs = Math.max(input.retryAfterMs ?? 0, backoffDelayMs(input.retriesDone, input.baseMs, input.random));
  return delayMs < input.remainingMs ? { retry: true, delayMs } : { retry: false };
}

/** `base · 2^n`, capped, of which the upper half is random. */
export function backoffDelayMs(retriesDone: number, baseMs: number, random: number): number {
  const step = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.min(retriesDone, 30));
  return Math.round(step / 2 + (step / 2) * random);
}
