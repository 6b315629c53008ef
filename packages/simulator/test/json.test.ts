import { toJson } from '../src/json';

describe('simulator JSON serializer', () => {
  it('writes bigint values as bare integer literals, digit for digit', () => {
    const text = toJson({ id: 9007199254740993n, nested: [{ id: 18446744073709551615n }, -12345678901234567890n], small: 3 });
    expect(text).toBe('{"id":9007199254740993,"nested":[{"id":18446744073709551615},-12345678901234567890],"small":3}');
  });

  it('leaves ordinary values as JSON.stringify writes them', () => {
    const value = { a: 'x"y', b: [1, 2.5, null, true], c: { d: '\u0000' }, e: undefined };
    expect(toJson(value)).toBe(JSON.stringify(value));
  });

  it('leaves look-alike strings alone', () => {
    const value = { text: '\\u0000bigint:12', other: 'bigint:12' };
    expect(JSON.parse(toJson(value))).toEqual(value);
  });

  it('refuses a string that collides with its marker instead of corrupting it', () => {
    expect(() => toJson({ text: '\u0000bigint:12' })).toThrow(TypeError);
  });
});
