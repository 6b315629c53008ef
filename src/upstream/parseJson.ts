import { parse as parseLossless, type DuplicateKeyInfo } from 'lossless-json';

/** The code of an {@link UpstreamBodyError}, in the style of undici's errors. */
export const UPSTREAM_BAD_BODY = 'UPSTREAM_BAD_BODY';

/** A 2xx body that is not the JSON the upstream documents. The message never quotes the body. */
export class UpstreamBodyError extends Error {
  readonly code = UPSTREAM_BAD_BODY;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamBodyError';
  }
}

const INTEGER_LITERAL = /^-?\d+$/;

/**
 * `JSON.parse`, except that the id fields the gateway reads never lose digits: when one holds an
 * integer beyond 2^53 (which `JSON.parse` rounds to an integer still beyond it, so a look at the
 * parsed ids finds it), the body is parsed again losslessly, and every integer literal beyond
 * that bound becomes its exact decimal text.
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

/** Every integer literal beyond 2^53 as its exact digits. @throws {SyntaxError} when not JSON */
export function parseLosslessText(text: string): unknown {
  return parseLossless(text, null, losslessOptions);
}

/** The integer id fields of jobs, tasks and engines (engine `id` itself is a string). */
const ID_FIELDS = ['id', 'jobId', 'latestJobId'] as const;

/**
 * Whether an id field holds a number `JSON.parse` cannot have kept exactly: in the body (or its
 * items), a list's `data`, and `tasks` (a job's tasks, phases, tasks inside phases).
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
    return Number.isSafeInteger(value) ? value : literal;
  },
  // As JSON.parse: the last of duplicate keys wins.
  onDuplicateKey: ({ newValue }: DuplicateKeyInfo): unknown => newValue,
};
