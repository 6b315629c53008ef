/**
 * The Relay connection arguments, checked before any upstream call. Stricter than the spec, which
 * only discourages them: `first` with `last` is refused, and page sizes are capped by the
 * upstream's maximum, so one field never costs more than a couple of calls.
 */
import { GatewayError } from '../errors/GatewayError';
import { decodeCursor, type DecodedCursor } from './cursor';

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface ParsedArgs {
  /** `forward` takes the first `count` items of the range, `backward` the last `count`. */
  direction: 'forward' | 'backward';
  /** Page size, 0..maxPageSize. */
  count: number;
  after?: DecodedCursor;
  before?: DecodedCursor;
}

export interface ParseConnectionArgsOptions {
  /** The upstream's maximum page size: the largest `first`/`last` accepted. */
  maxPageSize: number;
  /** Page size when neither `first` nor `last` is given (capped by maxPageSize). */
  defaultPageSize: number;
  /** The connection key the cursors must belong to (see `connectionKey`). */
  key: string;
}

/**
 * Neither `first` nor `last`: forward with the default page size.
 * @throws GatewayError BAD_USER_INPUT (with `details.argumentName`); Error on invalid options.
 */
export function parseConnectionArgs(args: ConnectionArgs, options: ParseConnectionArgsOptions): ParsedArgs {
  const { maxPageSize, defaultPageSize, key } = options;
  if (!Number.isSafeInteger(maxPageSize) || maxPageSize < 1) {
    throw new Error(`parseConnectionArgs: maxPageSize must be a positive integer, got ${maxPageSize}`);
  }
  if (!Number.isSafeInteger(defaultPageSize) || defaultPageSize < 0) {
    throw new Error(`parseConnectionArgs: defaultPageSize must be a non-negative integer, got ${defaultPageSize}`);
  }

  const first = pageSize(args.first, 'first', maxPageSize);
  const last = pageSize(args.last, 'last', maxPageSize);
  if (first !== undefined && last !== undefined) {
    throw new GatewayError(
      'BAD_USER_INPUT',
      'Arguments "first" and "last" cannot be combined: page forward with "first"/"after" or backward with "last"/"before".',
      { details: { argumentName: 'last' } },
    );
  }

  const parsed: ParsedArgs =
    last !== undefined
      ? { direction: 'backward', count: last }
      : { direction: 'forward', count: first ?? Math.min(defaultPageSize, maxPageSize) };
  if (args.after !== undefined && args.after !== null) parsed.after = decodeCursor(args.after, key, 'after');
  if (args.before !== undefined && args.before !== null) parsed.before = decodeCursor(args.before, key, 'before');
  return parsed;
}

function pageSize(value: number | null | undefined, name: 'first' | 'last', max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new GatewayError(
      'BAD_USER_INPUT',
      `Argument "${name}" must be an integer from 0 to ${max}; got ${String(value)}.`,
      { details: { argumentName: name } },
    );
  }
  return value;
}
