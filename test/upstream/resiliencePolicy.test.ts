import { countsForEngine, countsForUpstream, failureOfStatus, type FailureKind } from '../../src/upstream/resilience/failureKind';
import { backoffDelayMs, decideRetry, MAX_BACKOFF_MS, type RetryInput } from '../../src/upstream/resilience/retryDecision';
import fc from 'fast-check';

describe('failureOfStatus', () => {
  it.each([
    [429, 'throttled'],
    [500, 'server'],
    [503, 'server'],
    [599, 'server'],
    [400, 'refused'],
    [401, 'refused'],
    [403, 'refused'],
    [404, 'refused'],
    [302, 'bad-response'],
    [100, 'bad-response'],
  ] as const)('%i is %s', (status, kind) => {
    expect(failureOfStatus(status)).toBe(kind);
  });
});

describe('what the breakers count', () => {
  it.each<[FailureKind, boolean | undefined, boolean | undefined]>([
    ['answer', false, false],
    ['refused', false, false],
    ['throttled', undefined, false],
    ['server', true, false],
    ['bad-response', true, true],
    ['connection', true, true],
    ['timeout', true, true],
    ['cancelled', undefined, undefined],
  ])('%s: engine %p, upstream %p', (kind, engine, upstream) => {
    expect(countsForEngine(kind)).toBe(engine);
    expect(countsForUpstream(kind)).toBe(upstream);
  });
});

const base: RetryInput = {
  kind: 'server',
  status: 500,
  retryAfterMs: undefined,
  retriesDone: 0,
  maxRetries: 2,
  remainingMs: 10_000,
  baseMs: 100,
  random: 0.5,
};

describe('decideRetry', () => {
  it.each<[string, Partial<RetryInput>, false | number]>([
    ['a 500', {}, 75],
    ['a 502', { status: 502 }, 75],
    ['a 503', { status: 503 }, 75],
    ['a 504', { status: 504 }, 75],
    ['a 429', { kind: 'throttled', status: 429 }, 75],
    ['a connection error', { kind: 'connection', status: undefined }, 75],
    ['the second retry, backoff doubled', { retriesDone: 1 }, 150],
    ['a 501', { status: 501 }, false],
    ['a timeout', { kind: 'timeout', status: undefined }, false],
    ['a 400', { kind: 'refused', status: 400 }, false],
    ['a 401', { kind: 'refused', status: 401 }, false],
    ['a 403', { kind: 'refused', status: 403 }, false],
    ['an unreadable 200', { kind: 'bad-response', status: 200 }, false],
    ['a cancelled call', { kind: 'cancelled', status: undefined }, false],
    ['retries used up', { retriesDone: 2 }, false],
    ['no retries configured', { maxRetries: 0 }, false],
    ['a 429 with Retry-After that fits', { kind: 'throttled', status: 429, retryAfterMs: 1000 }, 1000],
    ['a 503 with Retry-After that fits', { status: 503, retryAfterMs: 2000 }, 2000],
    ['a 429 with Retry-After past the deadline', { kind: 'throttled', status: 429, retryAfterMs: 30_000 }, false],
    ['a 503 with Retry-After exactly at the deadline', { status: 503, retryAfterMs: 10_000 }, false],
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
