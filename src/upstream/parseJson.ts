import { parse as parseLossless, type DuplicateKeyInfo } from 'lossless-json';

/** The code of an {@link UpstreamBodyError}, in the style of undici's errors. */
export const UPSTREAM_BAD_BODY = 'UPSTREAM_BAD_BODY';

/**
 * The upstream answered 2xx with a body that is not the JSON it documents: not JSON at all, or
 * not the expected shape. The message never quotes the body (it may hold anything); the
 * underlying parser error, if any, is the `cause`, for the log.
 */
export class UpstreamBodyError extends Error {
  readonly code = UPSTREAM_BAD_BODY;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamBodyError';
  }
}

const INTEGER_LITERAL = /^-?\d+$/;

/**
 * Parses an upstream body. Equal to `JSON.parse`, except that the id fields the gateway reads
 * (see {@link hasUnsafeId}) never lose digits: when one of them holds an integer beyond
 * `Number.MAX_SAFE_INTEGER` (in magnitude), the body is parsed again losslessly, and then every
 * integer literal beyond that bound, id or not, becomes its exact decimal text — e.g. the task
 * id `"12345678901234567890"` — instead of a rounded double. Safe integers and non-integers
 * always stay numbers.
 *
 * The common body pays for `JSON.parse` and a look at a few fields per object: the rounded
 * double `JSON.parse` makes of a literal beyond 2^53 is itself an integer beyond the safe
 * bound, so the look finds every id that needs the exact digits without scanning the text.
 *
 * @throws {UpstreamBodyError} when the text is not JSON
 */
export function parseUpstreamJson(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text);
    return hasUnsafeId(value) ? parseLosslessText(text) : value;
  } catch (error) {
    throw new UpstreamBodyError('The upstream body is not valid JSON.', { cause: error });
  }
}

/**
 * `text` parsed as parseUpstreamJson parses a body with an id beyond 2^53: every integer literal
 * beyond the safe bound as its exact digits.
 * @throws {SyntaxError} when the text is not JSON
 */
export function parseLosslessText(text: string): unknown {
  return parseLossless(text, null, losslessOptions);
}

/** The integer id fields of jobs, tasks and engines (engine `id` itself is a string). */
const ID_FIELDS = ['id', 'jobId', 'latestJobId'] as const;

/**
 * Whether an id field the gateway reads holds a number that `JSON.parse` cannot have kept
 * exactly. It looks where the upstream shapes put them: in objects at the top (job or engine
 * details) or in top-level arrays (the list variant that is an array), in a list body's `data`,
 * and in `tasks` — flat tasks of a job, phases of job details, tasks inside phases.
 */
export function hasUnsafeId(body: unknown): boolean {
  return Array.isArray(body) ? someHasUnsafeId(body) : objectHasUnsafeId(body);
}

function someHasUnsafeId(items: readonly unknown[]): boolean {
  for (const item of items) if (objectHasUnsafeId(item)) return true;
  return false;
}

function objectHasUnsafeId(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  for (const field of ID_FIELDS) {
    const id = record[field];
    if (typeof id === 'number' && Number.isInteger(id) && !Number.isSafeInteger(id)) return true;
  }
  const { data, tasks } = record;
  return (Array.isArray(data) && someHasUnsafeId(data)) || (Array.isArray(tasks) && someHasUnsafeId(tasks));
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
