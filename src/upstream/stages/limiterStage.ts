import { classifyTransportError, overloadedError } from '../errorMapping';
import type { InFlightLimiter } from '../resilience/InFlightLimiter';
import type { AttemptStage } from './types';

/** A slot under the in-flight caps for the attempt, or OVERLOADED at once when none can be had. */
export function limiterStage(limiter: InFlightLimiter): AttemptStage {
  return (next) => async (attempt) => {
    const slot = limiter.acquire({ engine: attempt.engineKey, caller: attempt.digest }, attempt.signal);
    if (slot === undefined) {
      attempt.events.shed?.({ route: attempt.route });
      throw overloadedError();
    }
    let release: () => void;
    try {
      release = await slot;
    } catch (reason) {
      throw classifyTransportError(reason);
    }
    attempt.request.events?.inFlight?.(limiter.inFlight);
    try {
      return await next(attempt);
    } finally {
      release();
      attempt.request.events?.inFlight?.(limiter.inFlight);
    }
  };
}
