import { classifyTransportError, overloadedError } from '../errorMapping';
import type { InFlightLimiter } from '../resilience/InFlightLimiter';
import type { AttemptStage } from './types';

/**
 * A slot under the in-flight caps (the whole process's, and the engine's and the caller's shares)
 * for the duration of the attempt, or OVERLOADED at once when neither a slot nor a place in the
 * queue is free. The slot is released when the stages inside have finished, breakers included.
 */
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
    // The process sink hears of every change from the limiter itself; the operation's, here.
    attempt.request.events?.inFlight?.(limiter.inFlight);
    try {
      return await next(attempt);
    } finally {
      release();
      attempt.request.events?.inFlight?.(limiter.inFlight);
    }
  };
}
