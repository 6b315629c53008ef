import fc from 'fast-check';
import { parseUpstreamJson, UpstreamBodyError } from '../../src/upstream/parseJson';

const TWO_POW_53 = 2n ** 53n;

/**
 * `actual` equals `expected` (what JSON.parse made of the same text), except where the text had
 * an integer literal beyond 2^53: there JSON.parse has a rounded number and `actual` the digits,
 * which must denote that same number.
 */
function expectJsonParseExceptUnsafeIntegers(actual: unknown, expected: unknown): void {
  if (typeof expected === 'number' && Number.isInteger(expected) && !Number.isSafeInteger(expected) && typeof actual === 'string') {
    expect(actual).toMatch(/^-?\d+$/);
    expect(Number(actual)).toBe(expected);
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual)).toBe(true);
    expect((actual as unknown[]).length).toBe(expected.length);
    expected.forEach((item, i) => expectJsonParseExceptUnsafeIntegers((actual as unknown[])[i], item));
    return;
  }
  if (typeof expected === 'object' && expected !== null) {
    expect(typeof actual === 'object' && actual !== null && !Array.isArray(actual)).toBe(true);
    expect(Object.keys(actual as object)).toEqual(Object.keys(expected));
    for (const [key, item] of Object.entries(expected)) {
      expectJsonParseExceptUnsafeIntegers((actual as Record<string, unknown>)[key], item);
    }
    return;
  }
  expect(actual).toBe(expected);
}

describe('parseUpstreamJson', () => {
  it.each<[string, string, unknown]>([
    ['a list body', '{"total":2,"data":[{"id":1},{"id":2}]}', { total: 2, data: [{ id: 1 }, { id: 2 }] }],
    ['the largest safe integer', '{"id":9007199254740991}', { id: 9007199254740991 }],
    ['2^53, no longer safe', '{"id":9007199254740992}', { id: '9007199254740992' }],
    ['2^53 + 1', '{"id":9007199254740993}', { id: '9007199254740993' }],
    ['a 20-digit task id', '{"id":12345678901234567890}', { id: '12345678901234567890' }],
    ['a negative big integer', '{"n":-12345678901234567890}', { n: '-12345678901234567890' }],
    ['16 digits that are safe', '{"startTime":1636540095901000}', { startTime: 1636540095901000 }],
    ['a long fraction stays a number', '{"x":0.12345678901234567890}', { x: 0.1234567890123456789 }],
    ['a big exponent literal stays a number', '{"x":12345678901234567890e0}', { x: 12345678901234567890 }],
    ['big digits inside a string', '{"s":"12345678901234567890","n":1}', { s: '12345678901234567890', n: 1 }],
    ['a big id among small numbers', '[1,12345678901234567890,2.5,-0]', [1, '12345678901234567890', 2.5, -0]],
    ['duplicate keys: last wins, as JSON.parse', '{"a":1,"a":2,"id":12345678901234567890}', { a: 2, id: '12345678901234567890' }],
    ['a __proto__ key stays data', '{"__proto__":{"x":1},"id":12345678901234567890}', JSON.parse('{"__proto__":{"x":1},"id":"12345678901234567890"}')],
  ])('%s', (_label, text, expected) => {
    const parsed = parseUpstreamJson(text);
    expect(parsed).toEqual(expected);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.getPrototypeOf(expected));
  });

  it('keeps -0 as JSON.parse does', () => {
    expect(Object.is((parseUpstreamJson('[-0, 1234567890123456789]') as unknown[])[0], -0)).toBe(true);
  });

  it.each<[string, string]>([
    ['empty', ''],
    ['HTML', '<html><body>502 Bad Gateway</body></html>'],
    ['truncated', '{"total":2,"data":[{"id":1}'],
    ['truncated, slow path', '{"id":12345678901234567890'],
    ['trailing garbage', '{"id":1} x'],
    ['trailing garbage, slow path', '{"id":12345678901234567890} x'],
    ['a leading-zero number, slow path', '{"id":012345678901234567890}'],
    ['single quotes', "{'id':1}"],
  ])('throws UpstreamBodyError for %s', (_label, text) => {
    let caught: unknown;
    try {
      parseUpstreamJson(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UpstreamBodyError);
    expect(caught).toBeInstanceOf(Error);
    expect(caught).toMatchObject({ code: 'UPSTREAM_BAD_BODY', name: 'UpstreamBodyError' });
    // The body is never quoted: it may hold anything.
    if (text.length > 3) expect((caught as Error).message).not.toContain(text);
    expect((caught as Error).cause).toBeInstanceOf(SyntaxError);
  });

  it('equals JSON.parse for any JSON text, but for the digits it keeps', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expectJsonParseExceptUnsafeIntegers(parseUpstreamJson(text), JSON.parse(text));
      }),
    );
  });

  it('equals JSON.parse on the slow path too', () => {
    // A 16-digit run inside a string forces the lossless parser without changing the expected value.
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify({ pad: '1234567890123456789', value });
        expectJsonParseExceptUnsafeIntegers(parseUpstreamJson(text), JSON.parse(text));
      }),
    );
  });

  it('keeps the exact digits of any integer beyond 2^53', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: TWO_POW_53, max: 2n ** 128n }), fc.boolean(), (id, negative) => {
        const digits = (negative ? -id : id).toString();
        expect(parseUpstreamJson(`{"id": ${digits}}`)).toEqual({ id: digits });
      }),
    );
  });

  it('keeps safe integers as numbers whichever path parses them', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        expect(parseUpstreamJson(`{"id":${n},"pad":"12345678901234567"}`)).toEqual({ id: n, pad: '12345678901234567' });
      }),
    );
  });
});
