export type UnknownValueReporter = (kind: string, value: string) => void;

export type ProcessUnknownValueReporter = (kind: string, value: string, requestId?: string) => void;

/** An upstream value is data, not something to log in full. */
const MAX_VALUE_LENGTH = 100;

/** Once per (kind, value), up to `maxDistinct`: a value new on every object must not grow the log. */
export function createUnknownValueReporter(
  warn: (fields: { kind: string; value: string; requestId?: string }, message: string) => void,
  maxDistinct = 1000,
): ProcessUnknownValueReporter {
  if (!Number.isSafeInteger(maxDistinct) || maxDistinct < 0) {
    throw new RangeError(`maxDistinct must be an integer ≥ 0, got ${maxDistinct}`);
  }
  const seen = new Set<string>();
  let saturated = false;
  return (kind, value, requestId) => {
    const shown = truncate(value);
    // NUL cannot occur in `kind` (ours).
    const key = `${kind}\u0000${shown}`;
    if (seen.has(key) || saturated) return;
    const fields = requestId === undefined ? { kind, value: shown } : { kind, value: shown, requestId };
    if (seen.size >= maxDistinct) {
      saturated = true;
      const message = `Upstream sent more than ${maxDistinct} distinct unknown enum values; `;
      warn(fields, `${message}no longer reporting new ones (they still map to UNKNOWN)`);
      return;
    }
    seen.add(key);
    warn(fields, `Upstream sent a ${kind} value the gateway does not know; mapped to UNKNOWN`);
  };
}

function truncate(value: string): string {
  if (value.length <= MAX_VALUE_LENGTH) return value;
  // Not half of a surrogate pair at the end: loggers may reject lone surrogates.
  return value.slice(0, MAX_VALUE_LENGTH).replace(/[\uD800-\uDBFF]$/, '');
}
