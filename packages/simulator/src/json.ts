/**
 * JSON text in which bigint values become bare integer literals.
 *
 * The upstream sends Long ids that may exceed 2^53 as plain JSON integers; a gateway can only be
 * tested against that if the simulator emits them digit for digit. Node 20 has no
 * `JSON.rawJSON`, so a bigint is first written as a marked string and the marked strings are then
 * unquoted. The marker starts with U+0000, which JSON.stringify always escapes, so the quoted
 * marker can only come from the replacer; a real string that starts with it is refused rather
 * than silently turned into a number.
 */

const MARKER = '\u0000bigint:';
/** The lookahead leaves object keys alone: a key is followed by `:`. */
const QUOTED_MARKER = /"\\u0000bigint:(-?\d+)"(?!:)/g;

export function toJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'bigint') return MARKER + item.toString();
    if (typeof item === 'string' && item.startsWith(MARKER)) {
      throw new TypeError('A string value collides with the bigint marker of the simulator serializer');
    }
    return item;
  });
  return text.replace(QUOTED_MARKER, '$1');
}
