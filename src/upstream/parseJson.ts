/**
 * Parsing upstream response bodies without losing digits of large integer ids.
 */
import { parse as parseLossless, type DuplicateKeyInfo } from 'lossless-json';

/**
 * The upstream answered 2xx with a body that is not the JSON it documents: not JSON at all, or
 * not the expected shape. The message never quotes the body (it may hold anything); the
 * underlying parser error, if any, is the `cause`, for the log.
 */
export class UpstreamBodyError extends Error {
  /** Stable code to match on, in the style of undici's errors. */
  readonly code = 'UPSTREAM_BAD_BODY';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamBodyError';
  }
}

// Sixteen digits in a row are needed to exceed Number.MAX_SAFE_INTEGER (9007199254740991, itself
// 16 digits). The test is deliberately naive: a match inside a string or a long fraction only
// costs the slow path, which gives the same result there.
const MAYBE_UNSAFE_INTEGER = /\d{16}/;
const INTEGER_LITERAL = /^-?\d+$/;

/**
 * Parses an upstream body. Equal to `JSON.parse`, except that an integer literal beyond
 * `Number.MAX_SAFE_INTEGER` (in magnitude) becomes its exact decimal text, e.g. the task id
 * `"12345678901234567890"`, instead of a rounded double. Safe integers and non-integers stay
 * numbers, so the common body pays only for a regex test.
 *
 * @throws {UpstreamBodyError} when the text is not JSON
 */
export function parseUpstreamJson(text: string): unknown {
  try {
    return MAYBE_UNSAFE_INTEGER.test(text) ? parseLossless(text, null, losslessOptions) : JSON.parse(text);
  } catch (error) {
    throw new UpstreamBodyError('The upstream body is not valid JSON.', { cause: error });
  }
}

const losslessOptions = {
  parseNumber: (literal: string): number | string => {
    if (!INTEGER_LITERAL.test(literal)) return Number(literal);
    const value = Number(literal);
    // Past 2^53 the double is rounded; keep the exact digits instead.
    return Number.isSafeInteger(value) ? value : literal;
  },
  // lossless-json throws on a duplicate key by default; JSON.parse keeps the last value, and
  // both paths must agree.
  onDuplicateKey: ({ newValue }: DuplicateKeyInfo): unknown => newValue,
};
