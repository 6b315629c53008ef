/**
 * The time bound of one GraphQL operation (`REQUEST_TIMEOUT_MS`), counted from its start: the
 * signal aborts when the caller goes away or the time is up, and `deadline` lets the retry loop
 * see how much is left before it waits for a backoff or a `Retry-After`.
 */
export function operationDeadline(clientGone: AbortSignal, timeoutMs: number, now: number = Date.now()): { signal: AbortSignal; deadline: number } {
  return { signal: AbortSignal.any([clientGone, AbortSignal.timeout(timeoutMs)]), deadline: now + timeoutMs };
}
