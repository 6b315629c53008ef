import fc from 'fast-check';
import { GatewayError } from '../../src/errors/GatewayError';
import {
  connectionKey,
  decodeCursor,
  encodeCursor,
  MAX_CURSOR_LENGTH,
  MAX_CURSOR_POSITION,
} from '../../src/pagination/cursor';

const key = connectionKey(['jobs', 'project-1', '0', 'engine-1', null, null]);
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** The error decodeCursor throws, for assertions on its code and extensions. */
function failure(cursor: string, argName: 'after' | 'before'): GatewayError {
  try {
    decodeCursor(cursor, key, argName);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error(`decodeCursor accepted ${cursor}`);
}

describe('connectionKey', () => {
  it('is a short, stable base64url string', () => {
    expect(connectionKey(['jobs', 'p', 'e'])).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(connectionKey(['jobs', 'p', 'e'])).toBe(connectionKey(['jobs', 'p', 'e']));
  });

  it('is the same in every version: a cursor issued before a rolling deploy pages on after it', () => {
    expect(connectionKey(['jobs', 'project', null, 'engine', 12, undefined])).toBe('miVTz_Y0qzAB');
  });

  it.each`
    left                 | right              | why
    ${['a|b']}           | ${['a', 'b']}      | ${'parts are framed, not joined'}
    ${['ab', 'c']}       | ${['a', 'bc']}     | ${'parts are length-prefixed'}
    ${[null]}            | ${['']}            | ${'absent differs from empty'}
    ${[undefined]}       | ${['']}            | ${'absent differs from empty (undefined)'}
    ${[1]}               | ${['1']}           | ${'numbers differ from their text'}
    ${['a', 'b']}        | ${['b', 'a']}      | ${'order matters'}
    ${['a']}             | ${['a', null]}     | ${'a trailing absent part still counts'}
    ${['é']}             | ${['e\u0301']}     | ${'no Unicode normalisation: distinct strings stay distinct'}
  `('$left ≠ $right: $why', ({ left, right }) => {
    expect(connectionKey(left)).not.toBe(connectionKey(right));
  });

  it('treats null and undefined alike: GraphQL does not tell an omitted argument from null', () => {
    expect(connectionKey(['jobs', null])).toBe(connectionKey(['jobs', undefined]));
  });
});

describe('encodeCursor / decodeCursor', () => {
  const idArb = fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
    .filter((id) => Buffer.byteLength(id, 'utf8') <= 300);
  const partsArb = fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant(undefined)), {
    maxLength: 6,
  });

  it('round-trips any position and id (ids may contain "|") for the connection it was made for', () => {
    fc.assert(
      fc.property(partsArb, fc.integer({ min: 0, max: MAX_CURSOR_POSITION }), idArb, (parts, position, id) => {
        const k = connectionKey(parts);
        const cursor = encodeCursor(k, position, id);
        expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(cursor.length).toBeLessThanOrEqual(MAX_CURSOR_LENGTH);
        expect(decodeCursor(cursor, k, 'after')).toEqual({ position, id });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses any cursor of another connection', () => {
    fc.assert(
      fc.property(partsArb, partsArb, fc.nat(1000), idArb, (a, b, position, id) => {
        const [ka, kb] = [connectionKey(a), connectionKey(b)];
        fc.pre(ka !== kb);
        expect(() => decodeCursor(encodeCursor(ka, position, id), kb, 'before')).toThrow(/belongs to another list/);
      }),
      { numRuns: 200 },
    );
  });

  it('never throws anything but BAD_USER_INPUT on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 600 }), fc.base64String().map((s) => s.replace(/=+$/, ''))), (text) => {
        try {
          decodeCursor(text, key, 'after');
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayError);
          expect((error as GatewayError).code).toBe('BAD_USER_INPUT');
        }
      }),
      { numRuns: 300 },
    );
  });

  const good = encodeCursor(key, 7, '123');
  it.each`
    why                                   | cursor                                                  | message
    ${'empty'}                            | ${''}                                                   | ${/empty/}
    ${'over-long'}                        | ${'A'.repeat(MAX_CURSOR_LENGTH + 1)}                    | ${/longer than 512/}
    ${'not base64url (raw text)'}         | ${`v1|${key}|7|123`}                                    | ${/not base64url/}
    ${'padded base64'}                    | ${`${good}==`}                                          | ${/not base64url/}
    ${'standard base64 alphabet'}         | ${'a+b/'}                                               | ${/not base64url/}
    ${'truncated base64'}                 | ${'A'}                                                  | ${/not base64url of UTF-8/}
    ${'non-canonical trailing bits'}      | ${`${b64('v1|x|1|1')}`.slice(0, -1) + 'z'}              | ${/not base64url of UTF-8/}
    ${'invalid UTF-8'}                    | ${Buffer.from([0x76, 0x31, 0x7c, 0xff, 0xfe]).toString('base64url')} | ${/not base64url of UTF-8/}
    ${'wrong version'}                    | ${b64(`v2|${key}|7|123`)}                               | ${/version/}
    ${'no version at all'}                | ${b64('hello')}                                         | ${/version/}
    ${'too few fields'}                   | ${b64(`v1|${key}|7`)}                                   | ${/number of fields/}
    ${'two fields'}                       | ${b64(`v1|${key}`)}                                     | ${/number of fields/}
    ${'negative position'}                | ${b64(`v1|${key}|-1|123`)}                              | ${/non-negative integer/}
    ${'fractional position'}              | ${b64(`v1|${key}|1.5|123`)}                             | ${/non-negative integer/}
    ${'exponent position'}                | ${b64(`v1|${key}|1e3|123`)}                             | ${/non-negative integer/}
    ${'leading zero'}                     | ${b64(`v1|${key}|07|123`)}                              | ${/non-negative integer/}
    ${'empty position'}                   | ${b64(`v1|${key}||123`)}                                | ${/non-negative integer/}
    ${'position with spaces'}             | ${b64(`v1|${key}| 7|123`)}                              | ${/non-negative integer/}
    ${'position beyond 2^31 - 1'}         | ${b64(`v1|${key}|${2 ** 31}|123`)}                      | ${/out of range/}
    ${'empty id'}                         | ${b64(`v1|${key}|7|`)}                                  | ${/id is empty/}
    ${'another connection'}               | ${encodeCursor(connectionKey(['jobs', 'project-1', '0', 'engine-2', null, null]), 7, '123')} | ${/belongs to another list/}
  `('refuses a cursor that is $why', ({ cursor, message }) => {
    for (const argName of ['after', 'before'] as const) {
      const error = failure(cursor, argName);
      expect(error.code).toBe('BAD_USER_INPUT');
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: argName });
      expect(error.message).toMatch(message);
      expect(error.message).toContain(`"${argName}"`);
    }
  });

  it('accepts the largest position and ids containing the separator', () => {
    expect(decodeCursor(encodeCursor(key, MAX_CURSOR_POSITION, 'a|b|c'), key, 'after')).toEqual({
      position: MAX_CURSOR_POSITION,
      id: 'a|b|c',
    });
  });

  it.each`
    why                         | k           | position                   | id
    ${'a key containing "|"'}   | ${'a|b'}    | ${1}                       | ${'1'}
    ${'a negative position'}    | ${key}      | ${-1}                      | ${'1'}
    ${'a fractional position'}  | ${key}      | ${1.5}                     | ${'1'}
    ${'a position beyond max'}  | ${key}      | ${MAX_CURSOR_POSITION + 1} | ${'1'}
    ${'an empty id'}            | ${key}      | ${1}                       | ${''}
  `('encodeCursor refuses $why as a gateway bug (plain Error)', ({ k, position, id }) => {
    let thrown: unknown;
    try {
      encodeCursor(k, position, id);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).not.toBeInstanceOf(GatewayError);
  });

  it("encodeCursor refuses an id too long for a cursor as the upstream's broken answer (ids come from it)", () => {
    expect(() => encodeCursor(key, 1, 'x'.repeat(400))).toThrow(expect.objectContaining({ code: 'UPSTREAM_BAD_RESPONSE' }));
  });
});
