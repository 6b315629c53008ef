/**
 * Called when the upstream sends an enum value the gateway does not know. `kind` names the enum
 * (`JobType`, `JobStatus`, `EngineStatus`); `value` is the raw text, or `<missing>`.
 */
export type UnknownValueReporter = (kind: string, value: string) => void;

/** The process-wide reporter; each request reports through it with its id (see `forRequest`). */
export interface SharedUnknownValueReporter {
  (kind: string, value: string, requestId?: string): void;
}

/** The reporter one request's resolvers use: the shared one, naming the request in its warnings. */
export function forRequest(shared: SharedUnknownValueReporter, requestId: string | undefined): UnknownValueReporter {
  return requestId === undefined ? shared : (kind, value) => shared(kind, value, requestId);
}

/** Longest value passed to `warn`: an upstream value is data, not something to log in full. */
const MAX_VALUE_LENGTH = 100;

/**
 * A reporter that warns once per distinct (kind, value), so a new upstream enum value shows up
 * in the log without repeating on every job that carries it.
 *
 * The set of values already reported lives as long as the reporter (build it once per process,
 * not per request). It stops growing at `maxDistinct` entries: an upstream that sends a new
 * value on every object must not grow the gateway's memory or flood its log. Past that bound the
 * reporter warns once more, saying it falls silent, and then ignores every value it has not seen.
 *
 * @param warn receives the (truncated) value as a structured field and a fixed message
 * @param maxDistinct how many distinct values to remember; a non-negative integer
 * @throws {RangeError} when `maxDistinct` is not a non-negative integer
 */
export function createUnknownValueReporter(
  warn: (fields: { kind: string; value: string; requestId?: string }, message: string) => void,
  maxDistinct = 1000,
): SharedUnknownValueReporter {
  if (!Number.isSafeInteger(maxDistinct) || maxDistinct < 0) {
    throw new RangeError(
      `createUnknownValueReporter: maxDistinct must be a non-negative integer, got ${String(maxDistinct)}`,
    );
  }
  // Keys hold truncated values, so each entry is bounded too, not only their number.
  const seen = new Set<string>();
  let saturated = false;

  return (kind, value, requestId) => {
    const shown = truncate(value);
    // NUL cannot occur in `kind` (ours) and separates it unambiguously from the value.
    const key = `${kind}\u0000${shown}`;
    if (seen.has(key)) return;
    if (seen.size >= maxDistinct) {
      if (saturated) return;
      saturated = true;
      warn(
        warning(kind, shown, requestId),
        `Upstream sent more than ${maxDistinct} distinct unknown enum values; ` +
          'no longer reporting new ones (they still map to UNKNOWN)',
      );
      return;
    }
    seen.add(key);
    warn(warning(kind, shown, requestId), `Upstream sent a ${kind} value the gateway does not know; mapped to UNKNOWN`);
  };
}

/** The first request to bring a value names it; the field is left out when there is none. */
function warning(kind: string, value: string, requestId: string | undefined): { kind: string; value: string; requestId?: string } {
  return requestId === undefined ? { kind, value } : { kind, value, requestId };
}

function truncate(value: string): string {
  if (value.length <= MAX_VALUE_LENGTH) return value;
  let end = MAX_VALUE_LENGTH;
  // Do not leave half of a surrogate pair at the end: loggers may reject lone surrogates.
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return value.slice(0, end);
}
