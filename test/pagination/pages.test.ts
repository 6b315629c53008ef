import fc from 'fast-check';
import { pageOffset, planPageCalls, type PageCall } from '../../src/pagination/pages';

/** Calls needed to cover [start, end) with pages of size p. */
const callsWith = (start: number, end: number, p: number) => Math.floor((end - 1) / p) - Math.floor(start / p) + 1;

/** Brute force: the fewest calls any size ≤ max needs, and the smallest size achieving it. */
function bestPlan(start: number, end: number, max: number): { calls: number; size: number } {
  let best = { calls: Number.POSITIVE_INFINITY, size: 0 };
  for (let p = 1; p <= max; p += 1) {
    const calls = callsWith(start, end, p);
    if (calls < best.calls) best = { calls, size: p };
  }
  return best;
}

/** What the upstream answers for a call over `list`. */
const pageOf = <T>(list: readonly T[], call: PageCall) => list.slice(call.index * call.size, (call.index + 1) * call.size);

describe('planPageCalls', () => {
  it.each`
    start  | end    | max    | expected                                    | why
    ${15}  | ${35}  | ${100} | ${[{ index: 0, size: 35 }]}                 | ${'the brief example: one page from 0'}
    ${0}   | ${0}   | ${100} | ${[]}                                       | ${'empty window'}
    ${42}  | ${42}  | ${1}   | ${[]}                                       | ${'empty window, tiny max'}
    ${0}   | ${1}   | ${100} | ${[{ index: 0, size: 1 }]}                  | ${'first item'}
    ${57}  | ${58}  | ${100} | ${[{ index: 57, size: 1 }]}                 | ${'one item anywhere is a page of size 1'}
    ${0}   | ${20}  | ${100} | ${[{ index: 0, size: 20 }]}                 | ${'first page of the default size'}
    ${20}  | ${40}  | ${100} | ${[{ index: 1, size: 20 }]}                 | ${'aligned window'}
    ${0}   | ${100} | ${100} | ${[{ index: 0, size: 100 }]}                | ${'exactly one max page'}
    ${100} | ${200} | ${100} | ${[{ index: 1, size: 100 }]}                | ${'second max page'}
    ${99}  | ${101} | ${100} | ${[{ index: 33, size: 3 }]}                 | ${'straddles 100 but a page of 3 does not'}
    ${9}   | ${20}  | ${100} | ${[{ index: 0, size: 20 }]}                 | ${'anchor + 10 items after a page of 10'}
    ${0}   | ${101} | ${100} | ${[{ index: 0, size: 51 }, { index: 1, size: 51 }]} | ${'max + 1 from 0: two pages of 51'}
    ${1}   | ${101} | ${100} | ${[{ index: 0, size: 51 }, { index: 1, size: 51 }]} | ${'max items not on one page'}
    ${99}  | ${200} | ${100} | ${[{ index: 1, size: 67 }, { index: 2, size: 67 }]} | ${'anchor at 99 + 100 items'}
    ${3}   | ${5}   | ${1}   | ${[{ index: 3, size: 1 }, { index: 4, size: 1 }]}   | ${'max 1: one item per call'}
    ${90}  | ${250} | ${100} | ${[{ index: 1, size: 84 }, { index: 2, size: 84 }]} | ${'beyond max + 1: fewer calls than pages of 100 (3)'}
    ${0}   | ${250} | ${100} | ${[{ index: 0, size: 84 }, { index: 1, size: 84 }, { index: 2, size: 84 }]} | ${'large window: 3 calls of the smallest size that needs 3'}
  `('[$start, $end) with max $max: $why', ({ start, end, max, expected }) => {
    expect(planPageCalls(start, end, max)).toEqual(expected);
  });

  it.each`
    start  | end   | max
    ${-1}  | ${3}  | ${10}
    ${5}   | ${4}  | ${10}
    ${0.5} | ${3}  | ${10}
    ${0}   | ${3}  | ${0}
    ${0}   | ${NaN} | ${10}
  `('refuses the window [$start, $end) with max $max as a caller bug', ({ start, end, max }) => {
    expect(() => planPageCalls(start, end, max)).toThrow(RangeError);
  });

  it('covers any window of at most max + 1 items exactly, in at most two calls, one whenever possible', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 1, max: 100 }),
        fc.nat(),
        fc.nat(),
        (length, max, a, b) => {
          const list = Array.from({ length }, (_, i) => i);
          // Windows may run past the end of the list: the upstream then answers short pages.
          const start = a % (length + 2);
          const end = start + (b % (max + 2));
          const calls = planPageCalls(start, end, max);
          const covered = calls.flatMap((c) => pageOf(list, c)).filter((item) => item >= start && item < end);
          expect(covered).toEqual(list.slice(start, end));
          if (start === end) return expect(calls).toEqual([]);

          expect(calls.length).toBeLessThanOrEqual(2);
          const best = bestPlan(start, end, max);
          expect(calls.length).toBe(best.calls);
          expect(calls[0]?.size).toBe(best.size);
          for (const [k, call] of calls.entries()) {
            expect(call.size).toBeLessThanOrEqual(max);
            expect(call).toEqual({ index: (calls[0]?.index ?? 0) + k, size: best.size });
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('covers larger windows with the fewest calls, never more than pages of the maximum size', () => {
    fc.assert(
      fc.property(fc.nat(2000), fc.nat(1000), fc.integer({ min: 1, max: 100 }), (start, width, max) => {
        const end = start + width;
        const calls = planPageCalls(start, end, max);
        if (width === 0) return expect(calls).toEqual([]);
        const first = calls[0] as PageCall;
        const last = calls[calls.length - 1] as PageCall;
        expect(first.index * first.size).toBeLessThanOrEqual(start);
        expect((last.index + 1) * last.size).toBeGreaterThanOrEqual(end);
        expect(calls.length).toBe(bestPlan(start, end, max).calls);
        expect(calls.length).toBeLessThanOrEqual(callsWith(start, end, max));
        expect(calls.every((c, k) => c.size === first.size && c.size <= max && c.index === first.index + k)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('pageOffset', () => {
  it.each`
    index | pageBase | offset
    ${0}  | ${1}     | ${1}
    ${4}  | ${1}     | ${5}
    ${0}  | ${0}     | ${0}
    ${4}  | ${0}     | ${4}
  `('page index $index with base $pageBase is offset $offset', ({ index, pageBase, offset }) => {
    expect(pageOffset({ index, size: 10 }, pageBase)).toBe(offset);
  });
});
