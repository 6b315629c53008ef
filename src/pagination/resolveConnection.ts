/** Relay's pagination algorithm over page-number paging, with drift-aware cursors: docs/paging.md. */
import type { Page, ParsedArgs } from './args';
import { encodeCursor, type DecodedCursor } from './cursor';
import { planPageCalls, type PageCall } from './pages';

/** An edge's cursor is encoded only when a client asks for it. */
export interface EdgeModel<T> {
  node: T;
  /** In the whole list when it was fetched. */
  position: number;
  id: string;
  connectionKey: string;
}

export interface PageInfoModel {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface ConnectionModel<T> {
  edges: EdgeModel<T>[];
  nodes: T[];
  pageInfo: PageInfoModel;
  totalCount: number;
}

export interface ListPage<T> {
  total: number;
  data: T[];
}

type CursorsGiven = { readonly after: boolean; readonly before: boolean };

export type FetchPage<T> = (call: PageCall) => Promise<ListPage<T>>;

export interface ResolveOptions<T> {
  maxPageSize: number;
  key: string;
  idOf(item: T): string;
}

/** The most page calls one resolution makes, whatever forged cursors say: docs/paging.md's table. */
export function connectionCallBudget(args: Pick<Page, 'direction'> & CursorsGiven): number {
  if (!args.after && !args.before) return args.direction === 'forward' ? 1 : 3;
  return 2 + (args.after ? 2 : 0) + (args.before ? 2 : 0) + (args.after && args.before ? 1 : 0) + 2;
}

export async function resolveConnection<T>(
  args: ParsedArgs,
  fetchPage: FetchPage<T>,
  options: ResolveOptions<T>,
): Promise<ConnectionModel<T>> {
  const { maxPageSize, key } = options;
  const { count, after } = args;
  // The spec's ApplyCursorsToEdges looks for `before`'s edge among those `after` left: a `before` at or
  // ahead of `after` removes nothing, and is not looked for.
  const before = after && args.before && args.before.position <= after.position ? undefined : args.before;
  const given = { after: after !== undefined, before: args.before !== undefined };
  const list = new ListReader(fetchPage, maxPageSize, options.idOf, connectionCallBudget({ ...args, ...given }));

  // The cursors' items (to see whether they moved) with the items around them, and the total.
  if (args.direction === 'forward') {
    // count 0 still fetches one item: totalCount and the flags need the total.
    const primary: Window = after ? [after.position, after.position + 1 + count] : [0, Math.max(count, 1)];
    await list.ensure(before ? [primary, anchorWindow(before)] : [primary]);
  } else if (before) {
    const primary: Window = [Math.max(0, before.position - count), before.position + 1];
    await list.ensure(after ? [primary, anchorWindow(after)] : [primary]);
  } else {
    // The tail needs the total: a head page as large as the answer may be comes first.
    await list.ensure([after ? anchorWindow(after) : [0, Math.min(maxPageSize, Math.max(count, 1))]]);
  }

  // Sequential, so the second search can reuse the first's pages.
  const a = after ? await list.locate(after) : undefined;
  const b = before ? await list.locate(before) : undefined;

  // The spec's ApplyCursorsToEdges then `first` or `last` (of items that moved, as found again).
  const total = list.total;
  const ignored = a !== undefined && b !== undefined && b <= a;
  const lo = a === undefined ? 0 : Math.min(a + 1, total);
  const hi = b === undefined || ignored ? total : Math.min(b, total);
  const forward = args.direction === 'forward';
  const start = forward ? lo : Math.min(hi, Math.max(lo, hi - count));
  const end = forward ? Math.max(lo, Math.min(hi, lo + count)) : hi;
  await list.ensure([[start, end]]);
  const edges: EdgeModel<T>[] = [];
  // A contiguous run only: positions after a hole (data disagreeing with its total) are guesses.
  for (let pos = start; pos < end; pos += 1) {
    const item = list.known.get(pos);
    if (item === undefined) break;
    edges.push({ node: item, position: pos, id: list.idOf(item), connectionKey: key });
  }
  const nodes = edges.map((edge) => edge.node);
  // The newest total describes the list the page was (last) read from.
  const latestTotal = list.total;
  const firstEdge = edges[0];
  const lastEdge = edges[edges.length - 1];
  // The spec's flags. Towards where `first` or `last` counts: whether the cursors' range holds more
  // items than the page. The other way: whether items lie beyond that side's cursor (none without one).
  const rangeEnd = b === undefined || ignored ? latestTotal : Math.min(b, latestTotal);
  const beforeAt = b ?? args.before?.position;
  return {
    edges,
    nodes,
    totalCount: latestTotal,
    pageInfo: {
      hasPreviousPage: forward ? a !== undefined && Math.min(a, latestTotal) > 0 : Math.min(start, latestTotal) > lo,
      // With `last`, whether items follow `before`'s, as the spec asks, even one that removed nothing.
      hasNextPage: forward ? start + edges.length < rangeEnd : beforeAt !== undefined && beforeAt + 1 < latestTotal,
      startCursor: firstEdge ? encodeCursor(key, firstEdge.position, firstEdge.id) : null,
      endCursor: lastEdge ? encodeCursor(key, lastEdge.position, lastEdge.id) : null,
    },
  };
}

type Window = readonly [start: number, end: number];

function anchorWindow(cursor: DecodedCursor): Window {
  return [cursor.position, cursor.position + 1];
}

/** Whole pages are kept: their extra items often hold a moved cursor's item. Ids are read when needed. */
class ListReader<T> {
  readonly known = new Map<number, T>();
  private readonly made = new Set<string>();
  private latestTotal: number | undefined;

  constructor(
    private readonly fetchPage: FetchPage<T>,
    private readonly maxPageSize: number,
    readonly idOf: (item: T) => string,
    private readonly budget: number,
  ) {}

  get total(): number {
    if (this.latestTotal === undefined) throw new Error('ListReader: total read before any page was fetched');
    return this.latestTotal;
  }

  async ensure(windows: readonly Window[]): Promise<void> {
    const missing: Window[] = [];
    for (const [from, to] of windows) {
      let s = Math.max(0, from);
      let e = this.latestTotal === undefined ? to : Math.min(to, this.latestTotal);
      while (s < e && this.known.has(s)) s += 1;
      while (e > s && this.known.has(e - 1)) e -= 1;
      if (s < e) missing.push([s, e]);
    }
    if (missing.length === 0) return;
    const calls = this.cheapestPlan(missing)
      .filter((call) => !this.made.has(`${call.index}/${call.size}`))
      // Past the budget, what is not fetched stays unknown: a cursor's item is then not found
      // (its recorded position is used), and a page ends where the known items end.
      .slice(0, Math.max(0, this.budget - this.made.size));
    // A call made whose positions are still unknown hit the end of the list: never again.
    for (const call of calls) this.made.add(`${call.index}/${call.size}`);
    if (calls.length === 0) return;
    const pages = await Promise.all(calls.map((call) => this.fetchPage(call)));
    // Recorded in plan order, so `total` is deterministically that of the last call planned.
    calls.forEach(({ index, size }, i) => {
      const page = pages[i]!;
      // An upstream that ignores `limit` sends more: the extra items' positions are unknown.
      const count = Math.min(page.data.length, size);
      for (let j = 0; j < count; j += 1) this.known.set(index * size + j, page.data[j]!);
      this.latestTotal = page.total;
    });
  }

  /** Where recorded, else seen nearest to that, else in the next ⌊maxPageSize/2⌋, else as recorded. */
  async locate(cursor: DecodedCursor): Promise<number> {
    const recorded = this.known.get(cursor.position);
    if (recorded !== undefined && this.idOf(recorded) === cursor.id) return cursor.position;
    const seen = this.find(cursor.id, cursor.position);
    if (seen !== undefined) return seen;
    const span = Math.floor(this.maxPageSize / 2);
    await this.ensure([[cursor.position, cursor.position + span + 1]]);
    return this.find(cursor.id, cursor.position) ?? cursor.position;
  }

  private find(id: string, near: number): number | undefined {
    let best: number | undefined;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const [position, item] of this.known) {
      if (this.idOf(item) !== id) continue;
      const distance = Math.abs(position - near);
      // On a tie prefer the later position: insertions at the head are the usual drift.
      if (distance < bestDistance || (distance === bestDistance && best !== undefined && position > best)) {
        best = position;
        bestDistance = distance;
      }
    }
    return best;
  }

  private cheapestPlan(windows: readonly Window[]): PageCall[] {
    const byId = new Map<string, PageCall>();
    for (const [s, e] of windows) {
      for (const call of planPageCalls(s, e, this.maxPageSize)) byId.set(`${call.index}/${call.size}`, call);
    }
    const separate = [...byId.values()];
    const lo = Math.min(...windows.map(([s]) => s));
    const hi = Math.max(...windows.map(([, e]) => e));
    // Lower bound first: two far-apart windows must not plan thousands of calls.
    if (windows.length < 2 || Math.ceil((hi - lo) / this.maxPageSize) > separate.length) return separate;
    const hull = planPageCalls(lo, hi, this.maxPageSize);
    if (hull.length < separate.length) return hull;
    if (hull.length === separate.length && volume(hull) < volume(separate)) return hull;
    return separate;
  }
}

const volume = (calls: readonly PageCall[]) => calls.reduce((sum, call) => sum + call.size, 0);
