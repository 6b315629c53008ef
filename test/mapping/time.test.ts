import fc from 'fast-check';
import { durationMs, epochMsOrNull, formatDateTime, parseDateTime } from '../../src/mapping/time';

describe('epochMsOrNull', () => {
  it.each<[string, unknown, number | null]>([
    ['a timestamp', 1636540095901, 1636540095901],
    ['1 ms', 1, 1],
    ['a digit string', '1636540095901', 1636540095901],
    ['the largest Date', 8.64e15, 8.64e15],
    ['0 (not yet)', 0, null],
    ['-0', -0, null],
    ['a negative number', -5, null],
    ['undefined', undefined, null],
    ['null', null, null],
    ['NaN', Number.NaN, null],
    ['Infinity', Number.POSITIVE_INFINITY, null],
    ['-Infinity', Number.NEGATIVE_INFINITY, null],
    ['beyond what a Date holds', 8.64e15 + 1, null],
    ['a digit string beyond 2^53', '123456789012345678901', null],
    ['"0"', '0', null],
    ['an empty string', '', null],
    ['a signed string', '-5', null],
    ['a decimal string', '1.5', null],
    ['an ISO string', '2021-11-10T10:28:15.901Z', null],
    ['a boolean', true, null],
    ['an object', { valueOf: () => 5 }, null],
    ['a bigint', 5n, null],
  ])('%s → %p', (_label, raw, expected) => {
    expect(epochMsOrNull(raw)).toBe(expected);
  });
});

describe('durationMs', () => {
  it.each<[string, unknown, unknown, number | null]>([
    ['both present', 1000, 4500, 3500],
    ['equal', 1000, 1000, 0],
    ['digit strings', '1000', '1500', 500],
    ['end before start', 5000, 4000, null],
    ['running job (end 0)', 1000, 0, null],
    ['end missing', 1000, undefined, null],
    ['start missing', null, 1000, null],
    ['both missing', undefined, undefined, null],
    ['start NaN', Number.NaN, 1000, null],
  ])('%s', (_label, start, end, expected) => {
    expect(durationMs(start, end)).toBe(expected);
  });
});

describe('formatDateTime', () => {
  it.each<[number, string]>([
    [1636540095901, '2021-11-10T10:28:15.901Z'],
    [1, '1970-01-01T00:00:00.001Z'],
    [0, '1970-01-01T00:00:00.000Z'],
    [-1, '1969-12-31T23:59:59.999Z'],
    [253402300799999, '9999-12-31T23:59:59.999Z'],
    [1.9, '1970-01-01T00:00:00.001Z'],
  ])('%p → %s', (ms, text) => {
    expect(formatDateTime(ms)).toBe(text);
  });

  it('writes what toISOString writes, for any instant a Date holds', () => {
    const instant = fc.oneof(
      fc.integer({ min: 0, max: 253402300800000 }),
      fc.integer({ min: -8.64e15, max: 8.64e15 }),
      fc.double({ min: -8.64e15, max: 8.64e15, noNaN: true }),
    );
    fc.assert(fc.property(instant, (ms) => formatDateTime(ms) === new Date(ms).toISOString()), { numRuns: 2000 });
  });

  it.each<[string, unknown]>([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['beyond the Date range', 8.64e15 + 1],
    ['a string', '1636540095901'],
    ['undefined', undefined],
  ])('throws a TypeError for %s', (_label, ms) => {
    expect(() => formatDateTime(ms as number)).toThrow(TypeError);
  });
});

describe('parseDateTime', () => {
  it.each<[string, number]>([
    ['2021-11-10T10:28:15.901Z', 1636540095901],
    ['2021-11-10T10:28:15Z', 1636540095000],
    ['2021-11-10T10:28:15.9Z', 1636540095900],
    ['2021-11-10T10:28:15.90Z', 1636540095900],
    // Beyond milliseconds: truncated, never rounded up.
    ['2021-11-10T10:28:15.901999999Z', 1636540095901],
    ['2021-11-10T18:28:15.901+08:00', 1636540095901],
    ['2021-11-10T05:58:15.901-04:30', 1636540095901],
    ['2021-11-10T10:28:15.901+00:00', 1636540095901],
    ['2021-11-10T10:28:15.901-00:00', 1636540095901],
    ['2021-11-10t10:28:15.901z', 1636540095901],
    ['2020-02-29T00:00:00Z', Date.UTC(2020, 1, 29)],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)],
    ['1970-01-01T00:00:00Z', 0],
    ['1969-12-31T23:59:59.999Z', -1],
    // Years below 100 are not read as 19xx.
    ['0050-01-01T00:00:00Z', -60589296000000],
    ['9999-12-31T23:59:59.999Z', 253402300799999],
  ])('%s → %p', (text, ms) => {
    expect(parseDateTime(text)).toBe(ms);
  });

  it.each<[string, string, RegExp]>([
    ['date only', '2021-11-10', /no time zone/],
    ['no time zone', '2021-11-10T10:28:15', /no time zone/],
    ['no time zone, with fraction', '2021-11-10T10:28:15.901', /no time zone/],
    ['space, no time zone', '2021-11-10 10:28:15', /no time zone/],
    ['February 30th', '2021-02-30T00:00:00Z', /February 2021 has 28 days/],
    ['February 29th, not a leap year', '2021-02-29T00:00:00Z', /February 2021 has 28 days/],
    ['February 29th, 1900', '1900-02-29T00:00:00Z', /February 1900 has 28 days/],
    ['April 31st', '2021-04-31T00:00:00Z', /April 2021 has 30 days/],
    ['day 0', '2021-04-00T00:00:00Z', /not a date/],
    ['month 13', '2021-13-01T00:00:00Z', /no month 13/],
    ['month 0', '2021-00-01T00:00:00Z', /no month 00/],
    ['hour 24', '2021-11-10T24:00:00Z', /not a time of day/],
    ['minute 60', '2021-11-10T10:60:00Z', /not a time of day/],
    ['leap second', '2016-12-31T23:59:60Z', /leap seconds/],
    ['offset hour 24', '2021-11-10T10:28:15+24:00', /impossible time zone offset/],
    ['offset minute 60', '2021-11-10T10:28:15+01:60', /impossible time zone offset/],
    ['offset without colon', '2021-11-10T10:28:15+0800', /not an RFC 3339/],
    ['hour-only offset', '2021-11-10T10:28:15+08', /not an RFC 3339/],
    ['no seconds', '2021-11-10T10:28Z', /not an RFC 3339/],
    ['empty fraction', '2021-11-10T10:28:15.Z', /not an RFC 3339/],
    ['epoch millis as text', '1636540095901', /not an RFC 3339/],
    ['garbage', 'yesterday', /not an RFC 3339/],
    ['empty', '', /not an RFC 3339/],
    ['surrounding spaces', ' 2021-11-10T10:28:15Z ', /not an RFC 3339/],
    ['expanded year', '+012021-11-10T10:28:15Z', /not an RFC 3339/],
    ['non-ASCII digits', '２０２１-11-10T10:28:15Z', /not an RFC 3339/],
  ])('refuses %s with a TypeError saying why', (_label, text, why) => {
    expect(() => parseDateTime(text)).toThrow(TypeError);
    expect(() => parseDateTime(text)).toThrow(why);
  });

  it('shortens a very long input in its message', () => {
    let message = '';
    try {
      parseDateTime('x'.repeat(10_000));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.length).toBeLessThan(300);
  });

  it('throws a TypeError for a value that is not a string', () => {
    expect(() => parseDateTime(1636540095901 as unknown as string)).toThrow(TypeError);
  });

  it('round-trips every instant of years 0000–9999 through formatDateTime', () => {
    const year0 = Date.parse('0000-01-01T00:00:00.000Z');
    const year9999End = Date.parse('9999-12-31T23:59:59.999Z');
    fc.assert(
      fc.property(fc.integer({ min: year0, max: year9999End }), (ms) => {
        expect(parseDateTime(formatDateTime(ms))).toBe(ms);
      }),
    );
  });

  it('agrees with Date.parse on valid date-times with offsets', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        (date, offsetMinutes) => {
          const local = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, -1);
          const abs = Math.abs(offsetMinutes);
          const offset = `${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          const text = `${local}${offset}`;
          expect(parseDateTime(text)).toBe(date.getTime());
          expect(parseDateTime(text)).toBe(Date.parse(text));
        },
      ),
    );
  });
});
