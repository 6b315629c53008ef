import { badParameter } from './errors';

/**
 * Query parameters as the upstream reads them. Every value is a string on the wire; an empty
 * value counts as absent, as the upstream's web framework binds it.
 */

export type Query = Readonly<Record<string, string>>;

export interface PageRequest {
  /** Index of the first item of the page. */
  start: number;
  limit: number;
}

export interface TimeRange {
  from?: number;
  to?: number;
}

const DIGITS = /^\d+$/;
export const DEFAULT_LIMIT = 10;

function present(query: Query, name: string): string | undefined {
  const value = query[name];
  return value === undefined || value === '' ? undefined : value;
}

/** `offset` is a 1-based page number; 0 is read as page 1 (what Terraform observed). */
export function parsePage(query: Query, maxLimit: number): PageRequest {
  const offset = present(query, 'offset');
  const limitText = present(query, 'limit');
  if (offset !== undefined && !DIGITS.test(offset)) throw badParameter('offset', offset, 'a page number (digits)');
  if (limitText !== undefined && !DIGITS.test(limitText)) throw badParameter('limit', limitText, 'a page size (digits)');
  const limit = limitText === undefined ? DEFAULT_LIMIT : Number(limitText);
  if (limitText !== undefined && (limit < 1 || limit > maxLimit)) {
    throw badParameter('limit', limitText, `between 1 and ${maxLimit}`);
  }
  const pageNumber = Math.max(1, offset === undefined ? 1 : Number(offset));
  return { start: (pageNumber - 1) * limit, limit };
}

/** Epoch milliseconds, both bounds inclusive, compared with a job's startTime. */
export function parseTimeRange(query: Query): TimeRange {
  const range: TimeRange = {};
  for (const [name, key] of [
    ['from-time', 'from'],
    ['to-time', 'to'],
  ] as const) {
    const value = present(query, name);
    if (value === undefined) continue;
    if (!DIGITS.test(value)) throw badParameter(name, value, 'epoch milliseconds (digits)');
    range[key] = Number(value);
  }
  return range;
}

export function inRange(time: number, range: TimeRange): boolean {
  return (range.from === undefined || time >= range.from) && (range.to === undefined || time <= range.to);
}

export function pageOf<T>(items: readonly T[], page: PageRequest): { total: number; data: T[] } {
  return { total: items.length, data: items.slice(page.start, page.start + page.limit) };
}
