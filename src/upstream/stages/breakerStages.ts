import { circuitOpenError } from '../errorMapping';
import { BreakerBoard, isRefusal } from '../resilience/BreakerBoard';
import type { AttemptStage } from './types';

/**
 * Before an attempt waits for an in-flight slot: an open breaker refuses it at once, so calls to
 * a failing engine do not fill the queue; so is a call's first attempt while a 429 for its caller
 * and engine is waited out (its retries wait out that `Retry-After` themselves).
 */
export function breakerCheckStage(breakers: BreakerBoard): AttemptStage {
  return (next) => (attempt) => {
    const throttled = attempt.attempt === 0 ? breakers.throttled(attempt.digest, attempt.engineKey) : undefined;
    if (throttled !== undefined) return Promise.reject(throttled);
    const refusal = breakers.peek(attempt.engineKey);
    return refusal === undefined ? next(attempt) : Promise.reject(circuitOpenError(refusal.scope, refusal.retryAfterMs));
  };
}

/**
 * Around the exchange, once the attempt holds its slot: takes the breakers' permits, and reports
 * what the attempt showed (a 429's `Retry-After` included) before the slot is handed on.
 */
export function breakerStage(breakers: BreakerBoard): AttemptStage {
  return (next) => async (attempt) => {
    const admission = breakers.admit(attempt.engineKey, attempt.events);
    if (isRefusal(admission)) throw circuitOpenError(admission.scope, admission.retryAfterMs);
    try {
      const result = await next(attempt);
      breakers.settle(attempt.engineKey, admission, result.ok ? 'answer' : result.kind, attempt.events);
      if (!result.ok && result.kind === 'throttled') breakers.throttle(attempt.digest, attempt.engineKey, result.error);
      return result;
    } catch (error) {
      breakers.settle(attempt.engineKey, admission, 'cancelled', attempt.events);
      throw error;
    }
  };
}
