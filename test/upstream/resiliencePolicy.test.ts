import { backoffDelayMs, decideRetry, MAX_BACKOFF_MS, type RetryInput } from '../../src/upstream/stages/retryStage';
import fc from 'fast-check';

// Which failures may be retried at all is the classifier's `retry` column (errorMapping.test.ts).
const base: RetryInput = {
  retry: true,
  retryAfterMs: undefined,
  retriesDone: 0,
  maxRetries: 2,
  remainingMs: 10_000,
  baseMs: 100,
  random: 0.5,
};

describe('decideRetry', () => {
  it.each<[string, Partial<RetryInput>, false | number]>([
    ['a retryable failure', {}, 75],
    ['the second retry, backoff doubled', { retriesDone: 1 }, 150],
    ['a failure not worth retrying', { retry: false }, false],
    ['retries used up', { retriesDone: 2 }, false],
    ['no retries configured', { maxRetries: 0 }, false],
    ['a Retry-After that fits', { retryAfterMs: 1000 }, 1000],
    ['another Retry-After that fits', { retryAfterMs: 2000 }, 2000],
    ['a Retry-After of 0 (or a date gone by): the backoff still', { retryAfterMs: 0 }, 75],
    ['a Retry-After shorter than the backoff: the backoff', { retriesDone: 1, retryAfterMs: 100 }, 150],
    ['a Retry-After past the deadline', { retryAfterMs: 30_000 }, false],
    ['a Retry-After exactly at the deadline', { retryAfterMs: 10_000 }, false],
    ['a Retry-After on a failure not worth retrying', { retry: false, retryAfterMs: 1000 }, false],
    ['a backoff past the deadline', { remainingMs: 50 }, false],
  ])('%s', (_name, overrides, expected) => {
    const decision = decideRetry({ ...base, ...overrides });
    expect(decision).toEqual(expected === false ? { retry: false } : { retry: true, delayMs: expected });
  });

  it('never waits past the deadline nor retries more than allowed', () => {
    fc.assert(
      fc.property(
        fc.record({
          retriesDone: fc.nat(12),
          maxRetries: fc.nat(10),
          remainingMs: fc.integer({ min: -1000, max: 20_000 }),
          retryAfterMs: fc.option(fc.nat(60_000), { nil: undefined }),
          random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          baseMs: fc.integer({ min: 1, max: 1000 }),
        }),
        (input) => {
          const decision = decideRetry({ ...base, ...input });
          if (decision.retry) {
            expect(decision.delayMs).toBeLessThan(input.remainingMs);
            // Never sooner than Retry-After asks, nor than the backoff.
            expect(decision.delayMs).toBeGreaterThanOrEqual(input.retryAfterMs ?? 0);
            expect(decision.delayMs).toBeGreaterThanOrEqual(backoffDelayMs(input.retriesDone, input.baseMs, input.random));
            expect(input.retriesDone).toBeLessThan(input.maxRetries);
          }
        },
      ),
    );
  });
});

describe('backoffDelayMs', () => {
  it('is exponential with the upper half random, and capped', () => {
    expect([0, 1, 2, 3].map((n) => backoffDelayMs(n, 100, 0))).toEqual([50, 100, 200, 400]);
    expect([0, 1, 2, 3].map((n) => backoffDelayMs(n, 100, 0.999999))).toEqual([100, 200, 400, 800]);
    expect(backoffDelayMs(40, 100, 0.999999)).toBe(MAX_BACKOFF_MS);
  });
});
