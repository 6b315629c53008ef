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

/** `forward` takes the first `count` items of the range, `backward` the last `count`. */
export interface Page {
  direction: 'forward' | 'backward';
  /** Page size, 0..maxPageSize. */
  count: number;
}

export interface ParsedArgs extends Page {
  after?: DecodedCursor;
  before?: DecodedCursor;
}

export interface PageSizes {
  /** The upstream's maximum page size: the largest `first`/`last` accepted. */
  readonly maxPageSize: number;
  /** Page size when neither `first` nor `last` is given (capped by maxPageSize). */
  readonly defaultPageSize: number;
}

/**
 * The page `first`/`last` ask for, or why they are refused: what the resolvers page by and the
 * upstream-cost estimate counts (a refused page costs nothing). Neither: forward, the default size.
 */
export function pageOf(args: { first?: unknown; last?: unknown }, sizes: PageSizes): Page | GatewayError {
  const first = pageSize(args.first, 'first', sizes.maxPageSize);
  if (first instanceof GatewayError) return first;
  const last = pageSize(args.last, 'last', sizes.maxPageSize);
  if (last instanceof GatewayError) return last;
  if (first !== undefined && last !== undefined) {
    return new GatewayError(
      'BAD_USER_INPUT',
      'Arguments "first" and "last" cannot be combined: page forward with "first"/"after" or backward with "last"/"before".',
      { details: { argumentName: 'last' } },
    );
  }
  if (last !== undefined) return { direction: 'backward', count: last };
  return { direction: 'forward', count: first ?? Math.min(sizes.defaultPageSize, sizes.maxPageSize) };
}

/**
 * The page and the cursors, bound to the connection `key` (see `connectionKey`).
 * @throws GatewayError BAD_USER_INPUT (with `details.argumentName`).
 */
export function parseConnectionArgs(args: ConnectionArgs, options: PageSizes & { key: string }): ParsedArgs {
  const page = pageOf(args, options);
  if (page instanceof GatewayError) throw page;
  const parsed: ParsedArgs = page;
  const { after, before } = args;
  if (after !== undefined && after !== null) parsed.after = decodeCursor(after, options.key, 'after');
  if (before !== undefined && before !== null) parsed.before = decodeCursor(before, options.key, 'before');
  return parsed;
}

function pageSize(value: unknown, name: 'first' | 'last', max: number): number | undefined | GatewayError {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max) return value;
  const message = `Argument "${name}" must be an integer from 0 to ${max}; got ${String(value)}.`;
  return new GatewayError('BAD_USER_INPUT', message, { details: { argumentName: name } });
}
