import { setMaxListeners } from 'node:events';

/** The signal and deadline of one operation's upstream calls (see `operationDeadline`). */
export interface OperationDeadline {
  readonly signal: AbortSignal;
  readonly deadline: number;
}

/**
 * The time bound of one GraphQL operation (`REQUEST_TIMEOUT_MS`), counted from its start: the
 * signal aborts when the caller goes away or the time is up, and `deadline` lets the retry loop
 * see how much is left before it waits for a backoff or a `Retry-After`.
 *
 * The signal is made on first use: an operation answered without an upstream call (a cached
 * result, a refused request) never pays for the combined signal and its timer. Made later, it
 * still times out at the same instant, `deadline`.
 */
export function operationDeadline(clientGone: AbortSignal, timeoutMs: number, now: number = Date.now()): OperationDeadline {
  const deadline = now + timeoutMs;
  let signal: AbortSignal | undefined;
  return {
    deadline,
    get signal() {
      if (signal === undefined) {
        signal = AbortSignal.any([clientGone, AbortSignal.timeout(Math.max(0, deadline - Date.now()))]);
        // Every upstream call of the operation listens on this one signal (undici, the single-flight
        // and in-flight queues), so a fan-out legitimately holds dozens of listeners at once; each is
        // removed when its call ends. Node's default warning at 10 would only be noise.
        setMaxListeners(0, signal);
      }
      return signal;
    },
  };
}
