import { setMaxListeners } from 'node:events';

/**
 * The time bound of one GraphQL operation (`REQUEST_TIMEOUT_MS`), counted from its start: the
 * signal aborts when the caller goes away or the time is up, and `deadline` lets the retry loop
 * see how much is left before it waits for a backoff or a `Retry-After`.
 */
export function operationDeadline(clientGone: AbortSignal, timeoutMs: number, now: number = Date.now()): { signal: AbortSignal; deadline: number } {
  const signal = AbortSignal.any([clientGone, AbortSignal.timeout(timeoutMs)]);
  // Every upstream call of the operation listens on this one signal (undici, the single-flight
  // and in-flight queues), so a fan-out legitimately holds dozens of listeners at once; each is
  // removed when its call ends. Node's default warning at 10 would only be noise.
  setMaxListeners(0, signal);
  return { signal, deadline: now + timeoutMs };
}
