/**
 * Time conversions between the upstream (epoch milliseconds) and the GraphQL `DateTime` scalar
 * (RFC 3339 text in UTC).
 */

/** The largest distance from the epoch a JavaScript `Date` can hold (ECMA-262 §21.4.1.1). */
const MAX_EPOCH_MS = 8.64e15;

/**
 * An upstream timestamp as epoch milliseconds, or `null` when the upstream means "none".
 *
 * The upstream writes `0` (or leaves the field out) for a time that has not happened yet, e.g.
 * the `endTime` of a running job, so `0` and negatives are "none", not 1970. A string of digits is
 * accepted because the body parser keeps integers beyond 2^53 as strings; such a value (and any
 * number beyond what a `Date` can hold) is not a usable instant and also becomes `null`, so a
 * DateTime field shows `null` rather than failing.
 */
export function epochMsOrNull(raw: unknown): number | null {
  let ms: number;
  if (typeof raw === 'number') ms = raw;
  else if (typeof raw === 'string' && /^\d+$/.test(raw)) ms = Number(raw);
  else return null;
  return Number.isFinite(ms) && ms > 0 && ms <= MAX_EPOCH_MS ? ms : null;
}

/**
 * `end − start` in milliseconds, or `null` while either is missing (see {@link epochMsOrNull})
 * or when `end` is before `start` — a negative duration is an upstream glitch, not a fact.
 */
export function durationMs(start: unknown, end: unknown): number | null {
  const from = epochMsOrNull(start);
  const to = epochMsOrNull(end);
  if (from === null || to === null || to < from) return null;
  return to - from;
}

/**
 * Epoch milliseconds as ISO-8601 in UTC with milliseconds, e.g. `2021-11-10T10:28:15.901Z`
 * (years outside 0000–9999 use the expanded `±YYYYYY` form of `Date#toISOString`).
 *
 * @throws {TypeError} when `ms` is not a number a `Date` can hold
 */
export function formatDateTime(ms: number): string {
  const date = typeof ms === 'number' ? new Date(ms) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new TypeError(`DateTime cannot represent ${describe(ms)}: expected epoch milliseconds within ±8.64e15`);
  }
  return date.toISOString();
}

// date "T" time, fractional seconds optional, offset required (RFC 3339 §5.6). Lower-case `t` and
// `z` are allowed by RFC 3339 §5.6's note on case.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
// The same without an offset, only to say what is missing.
const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/;

const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
] as const;

/**
 * An RFC 3339 date-time (`2021-11-10T10:28:15.901Z`, `2021-11-10T18:28:15+08:00`) as epoch
 * milliseconds.
 *
 * The time zone is required: without it the instant depends on where the gateway runs. Digits
 * of the fractional second beyond milliseconds are dropped (truncated, not rounded, so the result
 * never lies after the given instant). Leap seconds (`:60`) are refused: JavaScript time has none.
 *
 * @throws {TypeError} for anything else, with a message that says what was wrong
 */
export function parseDateTime(text: string): number {
  if (typeof text !== 'string') {
    throw new TypeError(`DateTime must be a string, got ${describe(text)}`);
  }
  const m = RFC3339.exec(text);
  if (m === null) {
    if (LOCAL_DATE_TIME.test(text)) {
      throw new TypeError(
        `DateTime ${quote(text)} has no time zone: give a full date-time ending in Z or ±hh:mm, ` +
          'e.g. 2021-11-10T10:28:15.901Z',
      );
    }
    throw new TypeError(
      `DateTime ${quote(text)} is not an RFC 3339 date-time: expected e.g. 2021-11-10T10:28:15.901Z ` +
        'or 2021-11-10T18:28:15+08:00',
    );
  }
  const [, y, mo, d, h, mi, s, frac = '', z, sign, oh = '0', om = '0'] = m as unknown as string[];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12) {
    throw new TypeError(`DateTime ${quote(text)} has no month ${mo}: months are 01 to 12`);
  }
  const monthDays = daysInMonth(year, month);
  if (day < 1 || day > monthDays) {
    throw new TypeError(
      `DateTime ${quote(text)} is not a date: ${MONTHS[month - 1]} ${y} has ${monthDays} days`,
    );
  }
  if (hour > 23 || minute > 59 || second > 59) {
    const leap = second === 60 && hour <= 23 && minute <= 59;
    throw new TypeError(
      `DateTime ${quote(text)} is not a time of day: ` +
        (leap ? 'leap seconds are not supported' : 'hours are 00 to 23, minutes and seconds 00 to 59'),
    );
  }
  const offsetHours = Number(oh);
  const offsetMinutes = Number(om);
  if (z === undefined && (offsetHours > 23 || offsetMinutes > 59)) {
    throw new TypeError(`DateTime ${quote(text)} has an impossible time zone offset ${sign}${oh}:${om}`);
  }
  const millis = Number(frac.slice(0, 3).padEnd(3, '0'));

  // Date.UTC would read years 0–99 as 1900–1999; setUTCFullYear takes the year as given.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000 * (sign === '-' ? -1 : 1);
  return date.getTime() - offsetMs;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Echoes the caller's own input, shortened so an error message stays readable. */
function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  return `a value of type ${typeof value}`;
}
