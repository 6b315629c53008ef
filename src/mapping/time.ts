const MAX_EPOCH_MS = 8.64e15;

/** The upstream writes `0` (or nothing) for a time that has not happened yet. Digit strings are
 * integers kept beyond 2^53: like any value a `Date` cannot hold, `null` rather than a failed field. */
export function epochMsOrNull(raw: unknown): number | null {
  let ms: number;
  if (typeof raw === 'number') ms = raw;
  else if (typeof raw === 'string' && /^\d+$/.test(raw)) ms = Number(raw);
  else return null;
  return Number.isFinite(ms) && ms > 0 && ms <= MAX_EPOCH_MS ? ms : null;
}

/** `null` while either is missing, or when negative: an upstream glitch, not a fact. */
export function durationMs(start: unknown, end: unknown): number | null {
  const from = epochMsOrNull(start);
  const to = epochMsOrNull(end);
  if (from === null || to === null || to < from) return null;
  return to - from;
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

// The upstream's years by the date's fields: cheaper than toISOString, which is kept for the rest.
export function formatDateTime(ms: number): string {
  const date = typeof ms === 'number' ? new Date(ms) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    const expected = 'expected epoch milliseconds within ±8.64e15';
    throw new TypeError(`DateTime cannot represent ${describe(ms)}: ${expected}`);
  }
  const year = date.getUTCFullYear();
  if (year < 1000 || year > 9999) return date.toISOString();
  const day = `${year}-${TWO_DIGITS[date.getUTCMonth() + 1]}-${TWO_DIGITS[date.getUTCDate()]}`;
  const time = `${TWO_DIGITS[date.getUTCHours()]}:${TWO_DIGITS[date.getUTCMinutes()]}`;
  return `${day}T${time}:${TWO_DIGITS[date.getUTCSeconds()]}.${THREE_DIGITS[date.getUTCMilliseconds()]}Z`;
}

// RFC 3339 §5.6, offset required; lower-case `t` and `z` are allowed by its note on case.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
// Without an offset, only to say what is missing.
const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/;

/** The time zone is required (else the instant depends on the host). Digits beyond milliseconds are cut,
 * never rounding to a later instant; JavaScript has no leap seconds.
 * @throws {TypeError} saying what is wrong. */
export function parseDateTime(text: string): number {
  if (typeof text !== 'string') throw new TypeError(`DateTime must be a string, got ${describe(text)}`);
  const invalid = (why: string) => new TypeError(`DateTime ${quote(text)} ${why}`);
  const m = RFC3339.exec(text);
  if (m === null) {
    const why = LOCAL_DATE_TIME.test(text)
      ? 'has no time zone: give a full date-time ending in Z or ±hh:mm, e.g. 2021-11-10T10:28:15.901Z'
      : 'is not an RFC 3339 date-time: expected e.g. 2021-11-10T10:28:15.901Z or 2021-11-10T18:28:15+08:00';
    throw invalid(why);
  }
  const [, y, mo, d, h, mi, s, frac = '', z, sign, oh = '0', om = '0'] = m as unknown as string[];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12) throw invalid(`has no month ${mo}: months are 01 to 12`);
  const monthDays = daysInMonth(year, month);
  if (day < 1 || day > monthDays) {
    const name = new Date(Date.UTC(2000, month - 1)).toLocaleString('en', { month: 'long', timeZone: 'UTC' });
    throw invalid(`is not a date: ${name} ${y} has ${monthDays} days`);
  }
  if (hour > 23 || minute > 59 || second > 59) {
    const leap = second === 60 && hour <= 23 && minute <= 59;
    const why = leap ? 'leap seconds are not supported' : 'hours are 00 to 23, minutes and seconds 00 to 59';
    throw invalid(`is not a time of day: ${why}`);
  }
  const offsetHours = Number(oh);
  const offsetMinutes = Number(om);
  if (z === undefined && (offsetHours > 23 || offsetMinutes > 59)) {
    throw invalid(`has an impossible time zone offset ${sign}${oh}:${om}`);
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

function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  const plain = typeof value === 'number' || typeof value === 'boolean' || value == null;
  return plain ? String(value) : `a value of type ${typeof value}`;
}
