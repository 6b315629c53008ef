/**
 * Which upstream page calls cover a window of item positions. The upstream pages by page number
 * and size (at most `maxPageSize`), and a window rarely starts on a page boundary, so the page
 * size is chosen per request.
 */
export interface PageCall {
  /** 0-based page index: the call returns items [index*size, (index+1)*size). */
  index: number;
  /** Page size (the wire `limit`), 1..maxPageSize. */
  size: number;
}

/**
 * The fewest page calls that cover the window [start, end), in ascending order, all of the
 * smallest size that needs that few (least data): one whenever a size puts the window on one
 * page (items 15..34 → `{ index: 0, size: 35 }`), two for any window up to `maxPageSize + 1`.
 * @throws RangeError for a window or maximum that is not valid: a caller bug, not user input.
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
  // Calls with size p: ⌊last/p⌋ − ⌊start/p⌋ + 1, not monotonic in p, so every size is tried;
  // ⌈width/p⌉ is a lower bound that skips sizes that cannot win.
  let bestCalls = Number.POSITIVE_INFINITY;
  let bestSize = maxPageSize;
  for (let p = 1; p <= maxPageSize; p += 1) {
    if (Math.ceil(width / p) >= bestCalls) continue;
    const calls = Math.floor(last / p) - Math.floor(start / p) + 1;
    if (calls < bestCalls) {
      bestCalls = calls;
      bestSize = p;
      if (calls === 1) break;
    }
  }

  const first = Math.floor(start / bestSize);
  const out: PageCall[] = new Array<PageCall>(bestCalls);
  for (let k = 0; k < bestCalls; k += 1) out[k] = { index: first + k, size: bestSize };
  return out;
}

/** The wire `offset`, a page number: `pageBase` is the upstream's first (1, or 0 on some deployments). */
export function pageOffset(call: PageCall, pageBase: number): number {
  return pageBase + call.index;
}
