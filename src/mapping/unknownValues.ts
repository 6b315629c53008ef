import { LRUCache } from 'lru-cache';

export type UnknownValueReporter = (kind: string, value: string) => void;

/** An operation's reporter, made for it: its lines carry its request id. */
export type UnknownValueReporters = (requestId?: string) => UnknownValueReporter;

/** An upstream value is data, not something to log in full. */
const MAX_VALUE_LENGTH = 100;

/** Then a value is news again: an upstream that drifts later is seen, whatever came before. */
const FORGET_AFTER_MS = 60 * 60 * 1000;

/**
 * At most one line per operation, for a value not logged lately (the last `maxDistinct`, within an
 * hour): an upstream sending a new value on every object writes a line per operation, never more,
 * and the next operation logs the next value.
 */
export function createUnknownValueReporter(
  warn: (fields: { kind: string; value: string; requestId?: string }, message: string) => void,
  maxDistinct = 1000,
  clock?: { now(): number },
): UnknownValueReporters {
  if (!Number.isSafeInteger(maxDistinct) || maxDistinct < 1) {
    throw new RangeError(`maxDistinct must be an integer ≥ 1, got ${maxDistinct}`);
  }
  const logged = new LRUCache<string, true>({ max: maxDistinct, ttl: FORGET_AFTER_MS, ...(clock && { perf: clock, ttlResolution: 0 }) });
  return (requestId) => {
    let warned = false;
    return (kind, value) => {
      if (warned) return;
      const shown = truncate(value);
      // NUL cannot occur in `kind` (ours).
      const key = `${kind}\u0000${shown}`;
      if (logged.has(key)) return;
      logged.set(key, true);
      warned = true;
      const fields = requestId === undefined ? { kind, value: shown } : { kind, value: shown, requestId };
      warn(fields, `Upstream sent a ${kind} value the gateway does not know; mapped to UNKNOWN`);
    };
  };
}

function truncate(value: string): string {
  if (value.length <= MAX_VALUE_LENGTH) return value;
  // Not half of a surrogate pair at the end: loggers may reject lone surrogates.
  return value.slice(0, MAX_VALUE_LENGTH).replace(/[\uD800-\uDBFF]$/, '');
}
