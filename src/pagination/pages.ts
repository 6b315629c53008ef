/** Items [index*size, (index+1)*size): `size` is the wire `limit`, 0-based `index` its page. */
export interface PageCall {
  index: number;
  size: number;
}

/** The fewest page calls that cover [start, end), all of the smallest size that needs that few:
 * a window rarely starts on a page boundary (items 15..34 → `{ index: 0, size: 35 }`).
 * @throws RangeError for an invalid window or maximum: a caller bug, not user input. */
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
  return Array.from({ length: bestCalls }, (_, k) => ({ index: first + k, size: bestSize }));
}

/** The wire `offset`: `pageBase` is the upstream's first page number (1, or 0 on some deployments). */
export function pageOffset(call: PageCall, pageBase: number): number {
  return pageBase + call.index;
}
