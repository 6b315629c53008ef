import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { GatewayError } from '../../src/errors/GatewayError';
import { parseConnectionArgs, type ConnectionArgs } from '../../src/pagination/args';
import { connectionKey, encodeCursor } from '../../src/pagination/cursor';
import { connectionCallBudget, resolveConnection, type FetchPage } from '../../src/pagination/resolveConnection';
import type { ConnectionModel } from '../../src/pagination/resolveConnection';
import { fakeUpstream, idOf, items, type FakeUpstream, type Item } from './fakeUpstream';

const key = connectionKey(['jobs', 'project', '0', 'engine', null, null]);

/** One connection field, the way the resolvers run it: parse (validate) first, then resolve. */
async function connection(upstream: FakeUpstream, args: ConnectionArgs, maxPageSize = 100): Promise<ConnectionModel<Item>> {
  const parsed = parseConnectionArgs(args, { maxPageSize, defaultPageSize: 20, key });
  return resolveConnection(parsed, upstream.fetchPage, { maxPageSize, key, idOf });
}

/** Counts calls per resolution and asserts none repeats. */
async function measured(upstream: FakeUpstream, args: ConnectionArgs, maxPageSize: number) {
  const before = upstream.calls.length;
  const result = await connection(upstream, args, maxPageSize);
  const calls = upstream.calls.slice(before);
  const distinct = new Set(calls.map((c) => `${c.index}/${c.size}`));
  expect(distinct.size).toBe(calls.length);
  return { result, calls };
}

const cursorAt = (list: readonly Item[], position: number) => encodeCursor(key, position, (list[position] as Item).id);

interface Expected {
  positions: number[];
  hasPreviousPage: boolean;
  hasNextPage: boolean;
}

/**
 * The Relay spec's algorithm, literally, on an array whose cursors all exist: ApplyCursorsToEdges
 * (drop everything up to and including `after`'s edge, then everything from `before`'s edge on, if it is
 * still among the edges), then
 * first/last. The flags are the spec's HasPreviousPage and HasNextPage: with `last`, whether the
 * cursors' range holds more than `last` items, else whether items exist prior to `after`'s edge;
 * with `first`, whether it holds more than `first`, else whether items follow `before`'s edge.
 */
function reference(
  length: number,
  q: { direction: 'forward' | 'backward'; count: number; after?: number; before?: number },
): Expected {
  let edges = Array.from({ length }, (_, i) => i);
  if (q.after !== undefined) edges = edges.filter((i) => i > (q.after as number));
  // `before`'s edge is looked for among the edges `after` left: a cursor at or before `after`'s removes nothing.
  if (q.before !== undefined && edges.includes(q.before)) edges = edges.filter((i) => i < (q.before as number));
  const positions =
    q.direction === 'forward' ? edges.slice(0, q.count) : q.count === 0 ? [] : edges.slice(-q.count);
  const forward = q.direction === 'forward';
  return {
    positions,
    hasPreviousPage: forward ? q.after !== undefined && q.after > 0 : edges.length > q.count,
    hasNextPage: forward ? edges.length > q.count : q.before !== undefined && q.before + 1 < length,
  };
}

function expectMatches(result: ConnectionModel<Item>, list: readonly Item[], expected: Expected): void {
  const first = expected.positions[0];
  const last = expected.positions[expected.positions.length - 1];
  const wanted = {
    nodes: expected.positions.map((p) => list[p] as Item),
    edges: expected.positions.map((position) => ({ node: list[position], position, id: (list[position] as Item).id, connectionKey: key })),
    totalCount: list.length,
    pageInfo: {
      hasPreviousPage: expected.hasPreviousPage,
      hasNextPage: expected.hasNextPage,
      startCursor: first === undefined ? null : cursorAt(list, first),
      endCursor: last === undefined ? null : cursorAt(list, last),
    },
  };
  // The properties below call this tens of thousands of times: Node's strict deep equality (which
  // implies toEqual's) passes a match quickly, and Jest's matchers report any difference.
  const { nodes, edges, totalCount, pageInfo } = result;
  if (isDeepStrictEqual({ nodes, edges, totalCount, pageInfo }, wanted)) return;
  expect(result.nodes).toEqual(wanted.nodes);
  expect(result.edges).toEqual(wanted.edges);
  expect(result.totalCount).toBe(wanted.totalCount);
  expect(result.pageInfo).toEqual(wanted.pageInfo);
}

describe('resolveConnection: upstream calls (recorded like DataLoader tests)', () => {
  it('first page: one call of exactly the page size', async () => {
    const upstream = fakeUpstream(items(250), 100);
    const result = await connection(upstream, { first: 10 });
    expect(upstream.calls).toEqual([{ index: 0, size: 10 }]);
    expect(result.nodes.map(idOf)).toEqual(items(10).map(idOf));
    expect(result.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    expect(result.totalCount).toBe(250);
  });

  it('next page: one call covering the anchor and the page', async () => {
    const list = items(250);
    const upstream = fakeUpstream(list, 100);
    const result = await connection(upstream, { first: 10, after: cursorAt(list, 9) });
    // Items 9..19 (the anchor and the page) lie on page 0 of size 20.
    expect(upstream.calls).toEqual([{ index: 0, size: 20 }]);
    expect(result.edges.map((e) => e.position)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('the brief example: anchor 14 and 20 items → items 15..34 from one page of 35', async () => {
    const list = items(250);
    const upstream = fakeUpstream(list, 100);
    await connection(upstream, { first: 20, after: cursorAt(list, 14) });
    expect(upstream.calls).toEqual([{ index: 0, size: 35 }]);
  });

  it('last without before: the head page, then the tail', async () => {
    const upstream = fakeUpstream(items(250), 100);
    const result = await connection(upstream, { last: 10 });
    expect(upstream.calls).toEqual([
      { index: 0, size: 10 },
      { index: 24, size: 10 },
    ]);
    expect(result.edges.map((e) => e.position)).toEqual([240, 241, 242, 243, 244, 245, 246, 247, 248, 249]);
    expect(result.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
  });

  it('last without before on a short list: the head page is the whole answer', async () => {
    const upstream = fakeUpstream(items(8), 100);
    const result = await connection(upstream, { last: 10 });
    expect(upstream.calls).toEqual([{ index: 0, size: 10 }]);
    expect(result.nodes).toEqual(items(8));
    expect(result.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: false });
  });

  it.each`
    args                 | calls                          | hasPreviousPage | hasNextPage
    ${{ first: 0 }}      | ${[{ index: 0, size: 1 }]}     | ${false}        | ${true}
    ${{ last: 0 }}       | ${[{ index: 0, size: 1 }]}     | ${true}         | ${false}
  `('$args still fetches one item, for totalCount and exact flags', async ({ args, calls, hasPreviousPage, hasNextPage }) => {
    const upstream = fakeUpstream(items(30), 100);
    const result = await connection(upstream, args);
    expect(upstream.calls).toEqual(calls);
    expect(result).toMatchObject({
      edges: [],
      nodes: [],
      totalCount: 30,
      pageInfo: { hasPreviousPage, hasNextPage, startCursor: null, endCursor: null },
    });
  });

  it('an empty list', async () => {
    const upstream = fakeUpstream([], 100);
    for (const args of [{}, { first: 5 }, { last: 5 }, { first: 0 }, { last: 0 }]) {
      const result = await connection(upstream, args);
      expect(result).toEqual({
        edges: [],
        nodes: [],
        totalCount: 0,
        pageInfo: { hasPreviousPage: false, hasNextPage: false, startCursor: null, endCursor: null },
      });
    }
  });

  it('both cursors close together: one page covers both anchors and the range', async () => {
    const list = items(250);
    const upstream = fakeUpstream(list, 100);
    const result = await connection(upstream, { first: 10, before: cursorAt(list, 50) });
    // [0, 10) and the anchor at 50 separately would be two calls; one page of 51 holds both.
    expect(upstream.calls).toEqual([{ index: 0, size: 51 }]);
    expect(result.nodes).toEqual(list.slice(0, 10));
  });

  it('both cursors far apart: the second anchor is one extra call of one item', async () => {
    const list = items(250);
    const upstream = fakeUpstream(list, 100);
    const result = await connection(upstream, { first: 5, after: cursorAt(list, 10), before: cursorAt(list, 200) });
    expect(upstream.calls).toEqual([
      { index: 1, size: 8 },
      { index: 200, size: 1 },
    ]);
    expect(result.nodes).toEqual(list.slice(11, 16));
  });

  it('an upstream whose data is shorter than its total: a contiguous page, no call made twice', async () => {
    const list = items(40);
    const calls: string[] = [];
    const fetchPage: FetchPage<Item> = async (call) => {
      calls.push(`${call.index}/${call.size}`);
      return { total: 50, data: list.slice(call.index * call.size, (call.index + 1) * call.size) };
    };
    const parsed = parseConnectionArgs({ first: 10, after: cursorAt(list, 35) }, { maxPageSize: 100, defaultPageSize: 20, key });
    const result = await resolveConnection(parsed, fetchPage, { maxPageSize: 100, key, idOf });
    expect(result.nodes).toEqual(list.slice(36, 40));
    expect(result.totalCount).toBe(50);
    expect(result.pageInfo.hasNextPage).toBe(true);
    expect(new Set(calls).size).toBe(calls.length);
  });

  it('works with page numbers counted from 0', async () => {
    const list = items(250);
    const upstream = fakeUpstream(list, 100, 0);
    const result = await connection(upstream, { first: 10, after: cursorAt(list, 109) });
    expect(result.nodes).toEqual(list.slice(110, 120));
  });

  it('passes upstream failures through untouched', async () => {
    const failure = new GatewayError('UPSTREAM_UNAVAILABLE', 'down');
    const parsed = parseConnectionArgs({ first: 1 }, { maxPageSize: 100, defaultPageSize: 20, key });
    await expect(resolveConnection(parsed, () => Promise.reject(failure), { maxPageSize: 100, key, idOf })).rejects.toBe(failure);
  });
});

describe('resolveConnection: bad arguments never reach the upstream', () => {
  const list = items(50);
  const foreign = encodeCursor(connectionKey(['jobs', 'project', '0', 'other-engine', null, null]), 3, 'o3');
  it.each`
    args                                       | argumentName
    ${{ first: -1 }}                           | ${'first'}
    ${{ first: 101 }}                          | ${'first'}
    ${{ last: -1 }}                            | ${'last'}
    ${{ last: 101 }}                           | ${'last'}
    ${{ first: 1, last: 1 }}                   | ${'last'}
    ${{ first: 1, after: 'garbage' }}          | ${'after'}
    ${{ last: 1, before: 'garbage' }}          | ${'before'}
    ${{ first: 1, after: foreign }}            | ${'after'}
    ${{ last: 1, before: foreign }}            | ${'before'}
    ${{ first: 1, after: cursorAt(list, 1), before: foreign }} | ${'before'}
  `('$args → BAD_USER_INPUT on $argumentName', async ({ args, argumentName }) => {
    const upstream = fakeUpstream(list, 100);
    await expect(connection(upstream, args)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      extensions: { code: 'BAD_USER_INPUT', argumentName },
    });
    expect(upstream.calls).toEqual([]);
  });
});

describe('resolveConnection: the Relay algorithm on a list that does not move', () => {
  const query = fc
    .record({
      length: fc.integer({ min: 0, max: 300 }),
      max: fc.integer({ min: 1, max: 100 }),
      backward: fc.boolean(),
      countSeed: fc.nat(),
      afterSeed: fc.option(fc.nat()),
      beforeSeed: fc.option(fc.nat()),
      pageBase: fc.constantFrom(0 as const, 1 as const),
    })
    .map((q) => {
      const pick = (seed: number | null) => (seed === null || q.length === 0 ? undefined : seed % q.length);
      return { ...q, count: q.countSeed % (q.max + 1), after: pick(q.afterSeed), before: pick(q.beforeSeed) };
    });

  it('equals the reference for any first|last, after?, before?, within the call budget', async () => {
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const list = items(q.length);
        const upstream = fakeUpstream(list, q.max, q.pageBase);
        const args: ConnectionArgs = q.backward ? { last: q.count } : { first: q.count };
        if (q.after !== undefined) args.after = cursorAt(list, q.after);
        if (q.before !== undefined) args.before = cursorAt(list, q.before);
        const { result, calls } = await measured(upstream, args, q.max);
        const direction = q.backward ? 'backward' : 'forward';
        expectMatches(result, list, reference(q.length, { direction, count: q.count, after: q.after, before: q.before }));

        // 2 calls; +1 when `last` has no `before` (the total comes first); +1 when both
        // cursors are given (the second anchor may lie outside the first one's pages).
        const budget = 2 + (q.backward && q.before === undefined ? 1 : 0) + (q.after !== undefined && q.before !== undefined ? 1 : 0);
        expect(calls.length).toBeLessThanOrEqual(budget);
        expect(calls.every((c) => c.size >= 1 && c.size <= q.max)).toBe(true);
      }),
      { numRuns: 600 },
    );
  });

  it('walks forward with first/after through every item once, in order, with exact pageInfo', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 100 }), fc.nat(), async (length, max, seed) => {
        const n = 1 + (seed % max);
        const list = items(length);
        const upstream = fakeUpstream(list, max);
        const seen: Item[] = [];
        let after: string | null = null;
        let afterPosition: number | undefined;
        for (let step = 0; step <= Math.ceil(length / n); step += 1) {
          const { result, calls } = await measured(upstream, { first: n, after }, max);
          expect(calls.length).toBeLessThanOrEqual(2);
          expectMatches(result, list, reference(length, { direction: 'forward', count: n, after: afterPosition }));
          seen.push(...result.nodes);
          if (!result.pageInfo.hasNextPage) break;
          after = result.pageInfo.endCursor;
          afterPosition = result.edges[result.edges.length - 1]?.position;
        }
        expect(seen).toEqual(list);
      }),
      { numRuns: 150 },
    );
  });

  it('walks backward with last/before from the end through every item once, with exact pageInfo', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 100 }), fc.nat(), async (length, max, seed) => {
        const n = 1 + (seed % max);
        const list = items(length);
        const upstream = fakeUpstream(list, max);
        const seen: Item[] = [];
        let before: string | null = null;
        let beforePosition: number | undefined;
        for (let step = 0; step <= Math.ceil(length / n); step += 1) {
          const { result, calls } = await measured(upstream, { last: n, before }, max);
          expect(calls.length).toBeLessThanOrEqual(before === null ? 3 : 2);
          expectMatches(result, list, reference(length, { direction: 'backward', count: n, before: beforePosition }));
          seen.unshift(...result.nodes);
          if (!result.pageInfo.hasPreviousPage) break;
          before = result.pageInfo.startCursor;
          beforePosition = result.edges[0]?.position;
        }
        expect(seen).toEqual(list);
      }),
      { numRuns: 150 },
    );
  });
});

describe('resolveConnection: drift (new items at the head between requests)', () => {
  let fresh = 0;
  /** Inserts k new items at the head, as the upstream does when jobs are created. */
  const insertAtHead = (upstream: FakeUpstream, k: number) => {
    const added = Array.from({ length: k }, () => ({ id: `new${(fresh += 1)}` }));
    upstream.list = [...added, ...upstream.list];
  };

  it('paging forward collects every original item exactly once while ≤ ⌊max/2⌋ items arrive per request', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 250 }),
        fc.integer({ min: 1, max: 100 }),
        fc.nat(),
        fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
        async (length, max, seed, inserts) => {
          const n = 1 + (seed % max);
          const original = items(length);
          const upstream = fakeUpstream(original.slice(), max);
          const seen: Item[] = [];
          let after: string | null = null;
          for (let step = 0; step <= Math.ceil(length / n); step += 1) {
            if (step > 0) insertAtHead(upstream, (inserts[step % inserts.length] as number) % (Math.floor(max / 2) + 1));
            const { result, calls } = await measured(upstream, { first: n, after }, max);
            // Anchor window (2) + search (2) + the rest of the page (2).
            expect(calls.length).toBeLessThanOrEqual(6);
            expect(result.totalCount).toBe(upstream.list.length);
            seen.push(...result.nodes);
            if (!result.pageInfo.hasNextPage) break;
            after = result.pageInfo.endCursor;
          }
          expect(seen).toEqual(original);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('paging backward from the end collects every item exactly once while ≤ ⌊max/2⌋ items arrive per request', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 250 }),
        fc.integer({ min: 1, max: 100 }),
        fc.nat(),
        fc.array(fc.nat(), { minLength: 0, maxLength: 5 }),
        async (length, max, seed, inserts) => {
          const n = 1 + (seed % max);
          const upstream = fakeUpstream(items(length), max);
          const seen: Item[] = [];
          let before: string | null = null;
          // Insertions stop after a few requests so the walk can reach the head; every item
          // inserted before it gets there is collected too.
          for (let step = 0; step < 1000; step += 1) {
            const k = step > 0 ? inserts[step - 1] : undefined;
            if (k !== undefined) insertAtHead(upstream, k % (Math.floor(max / 2) + 1));
            const { result } = await measured(upstream, { last: n, before }, max);
            seen.unshift(...result.nodes);
            if (!result.pageInfo.hasPreviousPage) break;
            before = result.pageInfo.startCursor;
          }
          expect(seen).toEqual(upstream.list);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('tolerates items removed before the anchor when its new position was fetched anyway', async () => {
    const original = items(100);
    const upstream = fakeUpstream(original.slice(), 100);
    const page1 = await connection(upstream, { first: 10 });
    upstream.list = upstream.list.filter((item) => item.id !== 'o2' && item.id !== 'o3');
    const page2 = await connection(upstream, { first: 10, after: page1.pageInfo.endCursor });
    expect(page2.nodes).toEqual(original.slice(10, 20));
    expect(page2.edges[0]?.position).toBe(8);
  });

  describe('past the documented limit, the recorded position is used', () => {
    it('more than max(first, ⌊max/2⌋) insertions: the page repeats items already seen', async () => {
      const original = items(200);
      const upstream = fakeUpstream(original.slice(), 100);
      const page1 = await connection(upstream, { first: 10 });
      expect(page1.nodes).toEqual(original.slice(0, 10));
      insertAtHead(upstream, 51);
      const page2 = await connection(upstream, { first: 10, after: page1.pageInfo.endCursor });
      // The anchor o9 is now at 60, beyond the search window [9, 60): the page is taken after
      // the recorded position 9, i.e. new items the client has not asked for …
      expect(page2.nodes).toEqual(upstream.list.slice(10, 20));
      // … and walking on from there returns o0..o9 a second time.
      const seen: Item[] = [...page1.nodes, ...page2.nodes];
      let after = page2.pageInfo.endCursor;
      for (;;) {
        const page = await connection(upstream, { first: 10, after });
        seen.push(...page.nodes);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen.filter((item) => item.id === 'o0')).toHaveLength(2);
    });

    it('exactly ⌊max/2⌋ insertions are still absorbed', async () => {
      const original = items(200);
      const upstream = fakeUpstream(original.slice(), 100);
      const page1 = await connection(upstream, { first: 10 });
      insertAtHead(upstream, 50);
      const page2 = await connection(upstream, { first: 10, after: page1.pageInfo.endCursor });
      expect(page2.nodes).toEqual(original.slice(10, 20));
    });

    it('the anchor item deleted: the page starts after the recorded position and skips an item', async () => {
      const original = items(100);
      const upstream = fakeUpstream(original.slice(), 100);
      const page1 = await connection(upstream, { first: 10 });
      upstream.list = upstream.list.filter((item) => item.id !== 'o9');
      const page2 = await connection(upstream, { first: 10, after: page1.pageInfo.endCursor });
      // o10 moved to position 9, the cursor's own position: it is skipped.
      expect(page2.nodes).toEqual(original.slice(11, 21));
    });
  });
});

describe('the call budget (cursors are the caller\'s, and can be forged to point anywhere)', () => {
  it('never makes more calls than connectionCallBudget, whatever the cursors say', async () => {
    const cursor = fc.option(fc.record({ position: fc.nat(400), known: fc.boolean() }), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(fc.nat(350), fc.boolean(), fc.integer({ min: 0, max: 30 }), cursor, cursor, async (length, forward, count, after, before) => {
        const list = items(length);
        const upstream = fakeUpstream(list, 30);
        // A forged cursor: a valid key, any position, an id that is (or is not) the list's there.
        const forge = (c: { position: number; known: boolean }) => encodeCursor(key, c.position, c.known && list[c.position] ? list[c.position]!.id : `gone-${c.position}`);
        const args: ConnectionArgs = forward ? { first: count } : { last: count };
        if (after !== undefined) args.after = forge(after);
        if (before !== undefined) args.before = forge(before);
        await connection(upstream, args, 30);
        const budget = connectionCallBudget({ direction: forward ? 'forward' : 'backward', after: after !== undefined, before: before !== undefined });
        expect(upstream.calls.length).toBeLessThanOrEqual(budget);
      }),
      { numRuns: 400 },
    );
  });
});
