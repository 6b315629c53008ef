/** Stricter than the Relay spec: `first` with `last` is refused, page sizes capped (docs/paging.md). */
import type { GatewayConfig } from '../config/loadConfig';
import { GatewayError } from '../errors/GatewayError';
import { decodeCursor, type DecodedCursor } from './cursor';

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface Page {
  direction: 'forward' | 'backward';
  count: number;
}

export interface ParsedArgs extends Page {
  after?: DecodedCursor;
  before?: DecodedCursor;
}

export type PageSizes = GatewayConfig['upstream']['paging'];

/** What the resolvers page by and the upstream-cost estimate counts (a refused page costs nothing). */
export function pageOf(args: { first?: unknown; last?: unknown }, sizes: PageSizes): Page | GatewayError {
  const first = pageSize(args.first, 'first', sizes.maxPageSize);
  if (first instanceof GatewayError) return first;
  const last = pageSize(args.last, 'last', sizes.maxPageSize);
  if (last instanceof GatewayError) return last;
  if (first !== undefined && last !== undefined) {
    const message = 'Arguments "first" and "last" cannot be combined: page forward with "first"/"after" or backward with "last"/"before".';
    return new GatewayError('BAD_USER_INPUT', message, { details: { argumentName: 'last' } });
  }
  if (last !== undefined) return { direction: 'backward', count: last };
  return { direction: 'forward', count: first ?? Math.min(sizes.defaultPageSize, sizes.maxPageSize) };
}

/** @throws GatewayError BAD_USER_INPUT (with `details.argumentName`). */
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
