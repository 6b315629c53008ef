/**
 * Page arithmetic: which upstream page calls cover a window of item positions.
 *
 * The upstream list only pages by page number (`offset`) and page size (`limit`, at most
 * `maxPageSize`): page k (0-based index) of size p holds the items [k*p, (k+1)*p). A Relay window
 * rarely starts on a page boundary, so we pick the page size per request. Everything here is
 * pure and allocation-light: it runs for every connection field.
 *
 * This is the plumbing under the Relay Cursor Connections spec's "Pagination algorithm"
 * (https://relay.dev/graphql/connections.htm#sec-Pagination-algorithm): that algorithm slices a
 * list by position; these functions turn a slice into page calls and back.
 */

/** One upstream list call. `index` is 0-based; see {@link pageOffset} for the wire value. */
export interface PageCall {
  /** 0-based page index: the call returns items [index*size, (index+1)*size). */
  index: number;
  /** Page size (the wire `limit`), 1..maxPageSize. */
  size: number;
}

/**
 * The fewest page calls that cover the half-open window [start, end) of item positions.
 *
 * - `start == end` → `[]`.
 * - One call whenever some page size p ≤ maxPageSize puts the whole window on one page; the
 *   smallest such p (least data). Items 15..34 with max 100 → `[{ index: 0, size: 35 }]`.
 * - Otherwise two consecutive pages of the smallest size that covers the window; this always
 *   succeeds when `end - start ≤ maxPageSize + 1`.
 * - Larger windows: the fewest consecutive pages of one size (never more than pages of size
 *   `maxPageSize` would need), again the smallest such size.
 *
 * Calls are returned in ascending index order, all of one size, never above `maxPageSize`.
 * O(maxPageSize) time, no allocation besides the result.
 *
 * @throws RangeError when the window or the maximum is not made of non-negative safe integers
 *   with start ≤ end and maxPageSize ≥ 1: that is a bug in the caller, not user input.
 */
export function planPageCalls(start: number, end: number, maxPageSize: number): PageCall[] {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`planPageCalls: expected integers 0 ≤ start ≤ end, got [${start}, ${end})`);
  }
  if (!Number.isSafeInteger(maxPageSize) || maxPageSize < 1) {
    throw new RangeError(`planPageCalls: expected maxPageSize ≥ 1, got ${maxPageSize}`);
  }
  if (start === end) return [];

  const last = end - 1;
  const width = end - start;
  // The number of calls needed with size p is ⌊last/p⌋ − ⌊start/p⌋ + 1. It is not monotonic in
  // p (a bigger page can straddle a boundary a smaller one avoids), so every size is tried; a
  // size needs at least ⌈width/p⌉ calls, which lets the loop skip sizes that cannot win. Sizes
  // are tried in ascending order, so on a tie the first (smallest) size wins: least data.
  let bestCalls = Number.POSITIVE_INFINITY;
  let bestSize = maxPageSize;
  for (let p = 1; p <= maxPageSize; p += 1) {
    if (Math.ceil(width / p) >= bestCalls) continue;
    const calls = Math.floor(last / p) - Math.floor(start / p) + 1;
    if (calls < bestCalls) {
      bestCalls = calls;
      bestSize = p;
      // One call is optimal, and no smaller p can have reached it (the loop is ascending).
      if (calls === 1) break;
    }
  }

  const first = Math.floor(start / bestSize);
  const out: PageCall[] = new Array<PageCall>(bestCalls);
  for (let k = 0; k < bestCalls; k += 1) out[k] = { index: first + k, size: bestSize };
  return out;
}

/**
 * The wire `offset` (a page NUMBER, not an item offset) for a call: `pageBase + index`, where
 * `pageBase` is the upstream's first page number (1 by default, 0 for deployments that count
 * from 0; see the shared API notes, "Paging").
 */
export function pageOffset(call: PageCall, pageBase: number): number {
  return pageBase + call.index;
}
