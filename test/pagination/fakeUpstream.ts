/**
 * An in-memory stand-in for the upstream list, speaking its wire contract: `offset` is a page
 * NUMBER counted from `pageBase` (with base 1, offset 0 also means the first page), `limit` a
 * page size of at most `maxPageSize`. It records every call, so tests can assert upstream cost
 * the way DataLoader's own tests do (`expect(calls).toEqual([...])`).
 */
import { pageOffset, type PageCall } from '../../src/pagination/pages';
import type { FetchPage } from '../../src/pagination/resolveConnection';

export interface Item {
  id: string;
}

export interface FakeUpstream {
  /** The list as the upstream holds it now (newest first); tests mutate it to simulate drift. */
  list: Item[];
  /** Every call made, in order. */
  calls: PageCall[];
  fetchPage: FetchPage<Item>;
}

export function fakeUpstream(list: Item[], maxPageSize: number, pageBase: 0 | 1 = 1): FakeUpstream {
  const upstream: FakeUpstream = {
    list,
    calls: [],
    fetchPage: async (call) => {
      upstream.calls.push(call);
      const offset = pageOffset(call, pageBase);
      const limit = call.size;
      // Broken calls fail loudly rather than being answered: the gateway must never send them.
      if (!Number.isInteger(offset) || offset < pageBase) throw new Error(`bad offset ${offset}`);
      if (!Number.isInteger(limit) || limit < 1 || limit > maxPageSize) throw new Error(`bad limit ${limit}`);
      const pageNumber = pageBase === 1 ? Math.max(offset, 1) : offset;
      const from = (pageNumber - pageBase) * limit;
      return { total: upstream.list.length, data: upstream.list.slice(from, from + limit) };
    },
  };
  return upstream;
}

export function items(n: number, prefix = 'o'): Item[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}` }));
}

export const idOf = (item: Item): string => item.id;
