import type { FailureKind } from './failureKind';

/** HTTP statuses worth another GET: the upstream (or a proxy) may answer differently next time. */
const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

/** Backoff never grows past this, however many retries are configured. */
export const MAX_BACKOFF_MS = 5000;

export interface RetryInput {
  readonly kind: FailureKind;
  /** The HTTP status of the failed attempt, when an answer arrived. */
  readonly status: number | undefined;
  /** `Retry-After` in ms (429/503), when the upstream said. */
  readonly retryAfterMs: number | undefined;
  /** Retries already made for this call (0 after the first attempt). */
  readonly retriesDone: number;
  readonly maxRetries: number;
  /** Time left until the operation's deadline (Infinity when it has none). */
  readonly remainingMs: number;
  /** First backoff step (`CSE_RETRY_BASE_MS`). */
  readonly baseMs: number;
  /** A number in [0, 1): the jitter. */
  readonly random: number;
}

export type RetryDecision = { readonly retry: false } | { readonly retry: true; readonly delayMs: number };

const GIVE_UP: RetryDecision = { retry: false };

/**
 * Whether to try a failed upstream GET again, and after how long. Pure, so the rules are table
 * tested:
 *
 * - retried: connection errors, and 429, 500, 502, 503, 504 — nothing else. Timeouts are not:
 *   the attempt already spent its whole time bound, and another would as likely time out while
 *   holding the caller for twice as long; other 4xx are the caller's problem, an unreadable body
 *   is no better the second time.
 * - `Retry-After` is obeyed exactly when it ends before the deadline; when it does not, give up at
 *   once (the error carries `retryAfter` for the frontend) rather than wait for a certain timeout.
 * - otherwise exponential backoff with jitter (half fixed, half random, so that callers who failed
 *   together do not come back together), and only when the wait ends before the deadline.
 */
export function decideRetry(input: RetryInput): RetryDecision {
  if (input.retriesDone >= input.maxRetries) return GIVE_UP;
  const retryable = input.kind === 'connection' || (input.status !== undefined && RETRY_STATUSES.has(input.status) && (input.kind === 'server' || input.kind === 'throttled'));
  if (!retryable) return GIVE_UP;
  const delayMs = input.retryAfterMs ?? backoffDelayMs(input.retriesDone, input.baseMs, input.random);
  return delayMs < input.remainingMs ? { retry: true, delayMs } : GIVE_UP;
}

/** `base · 2^n`, capped at {@link MAX_BACKOFF_MS}, of which the upper half is random. */
export function backoffDelayMs(retriesDone: number, baseMs: number, random: number): number {
  const step = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.min(retriesDone, 30));
  return Math.round(step / 2 + (step / 2) * random);
}
