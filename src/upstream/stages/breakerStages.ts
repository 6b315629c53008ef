import { circuitOpenError } from '../errorMapping';
import { BreakerBoard, isRefusal } from '../resilience/BreakerBoard';
import type { AttemptStage } from './types';

/**
 * Before an attempt waits for an in-flight slot: an open breaker (the engine's, or the whole
 * upstream's) refuses it at once, so calls to a failing engine do not fill the queue. Only a look:
 * no permit is taken here (see {@link breakerStage}).
 *
 * A call's first attempt is also answered at once while the upstream's 429 for its caller and
 * engine is being waited out (see BreakerBoard.throttle). Its retries are not: the retry stage
 * waits out that same `Retry-After` before one.
 */
export function breakerCheckStage(breakers: BreakerBoard): AttemptStage {
  // Not async: on every attempt, one promise fewer on the way in.
  return (next) => (attempt) => {
    const throttled = attempt.attempt === 0 ? breakers.throttled(attempt.digest, attempt.engineKey) : undefined;
    if (throttled !== undefined) return Promise.reject(throttled);
    const refusal = breakers.peek(attempt.engineKey);
    return refusal === undefined ? next(attempt) : Promise.reject(circuitOpenError(refusal.scope, refusal.retryAfterMs));
  };
}

/**
 * Around the exchange, once the attempt holds its slot (it may have waited for it while a breaker
 * opened: the admission asked here is what stops it then): takes the breakers' permits, and
 * reports what the attempt showed before the slot is handed on, so the next call's admission
 * already knows — a 429's `Retry-After` included.
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
      // The exchange classifies every failure; only a bug of ours lands here.
      breakers.settle(attempt.engineKey, admission, 'cancelled', attempt.events);
      throw error;
    }
  };
}
