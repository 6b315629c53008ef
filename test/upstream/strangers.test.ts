import fc from 'fast-check';
import { CredentialGate } from '../../src/upstream/CredentialGate';
import { classifyFailure, type Failure } from '../../src/upstream/errorMapping';
import { InFlightLimiter, type InFlightLimits, type Release, type SlotBound } from '../../src/upstream/resilience/InFlightLimiter';
import type { AttemptRequest, CallRequest, UpstreamAnswer } from '../../src/upstream/stages/types';

/**
 * Credentials the upstream has not accepted (made-up tokens, each a new caller) share one caller's
 * in-flight slots and queue places, and no engine's: a caller the upstream accepted finds the rest.
 */

const LIMITS: InFlightLimits = { inFlight: 4, queue: 4, perEngine: { inFlight: 1, queue: 1 }, perCaller: { inFlight: 2, queue: 2 }, strangers: { inFlight: 2, queue: 2 } };

type Outcome = 'run' | 'queued' | 'shed';

/** Calls waiting, strangers' and accepted callers' alike. */
const queuedOf = (limiter: InFlightLimiter) => limiter['total'].queued;

/** Each attempt, `s<token>@<engine>` a stranger's, `v<token>@<engine>` a verified caller's; none ends. */
function outcomes(attempts: readonly string[]): Outcome[] {
  const limiter = new InFlightLimiter(LIMITS);
  const started = new Set<unknown>();
  const handler = limiter.stage()((attempt) => (started.add(attempt), new Promise(() => {})));
  return attempts.map((spec) => {
    const [, kind, token, engine] = /^([sv])(\d+)@(\w+)$/.exec(spec)!;
    let shed = false;
    const attempt = {
      engineKey: `p/${engine}`,
      digest: `digest-${token}`,
      caller: `caller-${token}`,
      stranger: kind === 's' ? true : undefined,
      route: 'getEngine',
      events: { shed: () => (shed = true) },
      request: {},
      signal: new AbortController().signal,
    };
    handler(attempt as unknown as AttemptRequest).catch(() => {});
    return started.has(attempt) ? 'run' : shed ? 'shed' : 'queued';
  });
}

describe("the in-flight limiter's accounting of strangers", () => {
  it.each<[string, string[], Outcome[]]>([
    [
      'made-up tokens, each a new caller, hold one caller’s share together',
      ['s1@a', 's2@b', 's3@c', 's4@d', 's5@e'],
      ['run', 'run', 'queued', 'queued', 'shed'],
    ],
    ['a verified caller still runs at once beside them', ['s1@a', 's2@b', 's3@c', 's4@d', 's5@e', 'v9@f'], ['run', 'run', 'queued', 'queued', 'shed', 'run']],
    [
      'strangers naming a verified caller’s engine do not take that engine’s share',
      ['s1@a', 's2@a', 's3@a', 'v9@a', 'v9@a'],
      ['run', 'run', 'queued', 'run', 'queued'],
    ],
    [
      'verified callers keep the rest of the slots and the queue',
      ['s1@a', 's2@b', 's3@c', 's4@d', 's5@e', 'v6@f', 'v7@g', 'v8@h', 'v9@i', 'v10@j'],
      ['run', 'run', 'queued', 'queued', 'shed', 'run', 'run', 'queued', 'queued', 'shed'],
    ],
    [
      'unmarked, each token is a caller of its own, and together they take the whole (what strangers must not)',
      ['v1@a', 'v2@b', 'v3@c', 'v4@d', 'v5@e', 'v6@f', 'v7@g', 'v8@h', 'v9@i'],
      ['run', 'run', 'run', 'run', 'queued', 'queued', 'queued', 'queued', 'shed'],
    ],
  ])('%s', (_name, attempts, expected) => {
    expect(outcomes(attempts)).toEqual(expected);
  });

  it('a stranger’s freed slot goes to the next stranger, never past the strangers’ share', async () => {
    const limiter = new InFlightLimiter(LIMITS);
    const ends: Array<() => void> = [];
    const handler = limiter.stage()(() => new Promise((resolve) => ends.push(() => resolve({ ok: true } as never))));
    const attempt = (digest: string) =>
      ({ engineKey: 'p/a', digest, stranger: true, route: 'getEngine', events: {}, request: {}, signal: new AbortController().signal }) as never;
    const calls = ['1', '2', '3', '4'].map((digest) => handler(attempt(digest)));
    expect(ends).toHaveLength(2);
    ends[0]!();
    await calls[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(ends).toHaveLength(3);
    expect(limiter['total'].active).toBe(2);
  });
});

describe('the credential gate marks the calls of credentials the upstream has not accepted', () => {
  const refused = (classifyFailure({ status: 401, headers: {}, body: '{"error_code":"APIG.0301"}' }) as Failure).error;
  const answer: UpstreamAnswer = { kind: 'ok', body: {}, requestId: undefined, bytes: 2 };
  const callOf = (digest: string): CallRequest => ({
    route: 'getEngine',
    path: '/e',
    engineKey: undefined,
    request: { credentials: { token: 't', projectId: 'p', enterpriseProjectId: undefined } },
    digest,
    caller: digest,
    key: `${digest} /e`,
    events: {},
    signal: undefined,
  });

  it('from its first call until an accepted answer, again after a 401, and not for a scope accepted long ago', async () => {
    let now = 0;
    const gate = new CredentialGate({ rejectionTtlMs: 1000, recheckMs: 5000, now: () => now });
    const seen: Array<boolean | undefined> = [];
    let fail: unknown;
    const stage = gate.stage()(async (call) => {
      seen.push(call.stranger);
      if (fail !== undefined) throw fail;
      return answer;
    });
    await stage(callOf('s'));
    // Accepted: the call goes on as it came (the hot path makes no copy).
    const call = callOf('s');
    const passed: CallRequest[] = [];
    await gate.stage()(async (c) => (passed.push(c), answer))(call);
    expect(passed[0]).toBe(call);
    // Accepted long ago (past recheckMs: probed again), but never refused since: not a stranger.
    now += 60_000;
    await stage(callOf('s'));
    fail = refused;
    await expect(stage(callOf('s'))).rejects.toBe(refused);
    now += 2000;
    fail = undefined;
    await stage(callOf('s'));
    await stage(callOf('s'));
    expect(seen).toEqual([true, undefined, undefined, true, undefined]);
  });
});

describe("the strangers' start rate (a token bucket in their share)", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** Only the rate binds unless told otherwise; `now` is the fake clock's, as the timers'. */
  const limiterOf = (callsPerSecond: number, bound: Partial<SlotBound> = {}) =>
    new InFlightLimiter(
      { inFlight: 10_000, queue: 10_000, perCaller: { inFlight: 10_000, queue: 10_000 }, strangers: { inFlight: 10_000, queue: 10_000, ...bound, callsPerSecond } },
      undefined,
      () => jest.now(),
    );
  const STRANGER = { stranger: true } as const;

  /** Acquires a stranger's slot at each time (ms, ascending); the times each started, in arrival order. */
  async function startTimes(limiter: InFlightLimiter, arrivals: readonly number[], until: number): Promise<Array<number | undefined>> {
    const started: Array<number | undefined> = arrivals.map(() => undefined);
    for (const [i, at] of arrivals.entries()) {
      await jest.advanceTimersByTimeAsync(at - jest.now());
      const slot = limiter.acquire(STRANGER);
      if (typeof slot === 'function') started[i] = jest.now();
      else void slot?.then(() => (started[i] = jest.now()));
    }
    await jest.advanceTimersByTimeAsync(until - jest.now());
    return started;
  }

  it.each<[string, number, number[], Array<number | undefined>]>([
    ['a burst of the rate at once, then one per 1/rate s', 2, [0, 0, 0, 0, 0], [0, 0, 500, 1000, 1500]],
    ['an idle bucket holds no more than the burst', 2, [0, 0, 3000, 3000, 3000], [0, 0, 3000, 3000, 3500]],
    ['a token half refilled is not spent: the call waits for the rest of it', 2, [0, 0, 250], [0, 0, 500]],
    ['waiting calls start in arrival order, a late arrival behind them', 1, [0, 0, 0, 900], [0, 1000, 2000, 3000]],
    ['a rate of a token a millisecond', 1000, Array(1002).fill(0), [...Array(1000).fill(0), 1, 2]],
    ['a rate whose tokens fall between milliseconds (1/3 s each)', 3, [0, 0, 0, 0, 0], [0, 0, 0, 334, 667]],
  ])('%s', async (_name, rate, arrivals, expected) => {
    jest.setSystemTime(0);
    const limiter = limiterOf(rate);
    expect(await startTimes(limiter, arrivals, 10_000)).toEqual(expected);
    // The refill timer went with the last waiting call.
    expect(jest.getTimerCount()).toBe(0);
  });

  it('never starts more than burst + rate·t in any window of t, in arrival order, and every call still waiting in the end', async () => {
    const arrival = fc.record({
      gap: fc.integer({ min: 0, max: 400 }),
      /** How long the call holds its slot once started. */
      hold: fc.integer({ min: 0, max: 1500 }),
      /** Its operation ends (deadline, caller gone) this long after it arrived, if at all. */
      abortAfter: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 4 }), fc.array(arrival, { minLength: 1, maxLength: 40 }), async (rate, inFlight, calls) => {
        jest.setSystemTime(0);
        const limiter = limiterOf(rate, { inFlight });
        const started: Array<number | undefined> = calls.map(() => undefined);
        const aborted = calls.map(() => false);
        let running = 0;
        const run = (i: number, release: Release) => {
          started[i] = jest.now();
          running += 1;
          expect(running).toBeLessThanOrEqual(inFlight);
          setTimeout(() => ((running -= 1), release()), calls[i]!.hold);
        };
        for (const [i, call] of calls.entries()) {
          await jest.advanceTimersByTimeAsync(call.gap);
          const controller = new AbortController();
          if (call.abortAfter !== undefined) setTimeout(() => controller.abort(new Error('gone')), call.abortAfter);
          const slot = limiter.acquire(STRANGER, controller.signal);
          if (typeof slot === 'function') run(i, slot);
          else void slot?.then((release) => run(i, release), () => (aborted[i] = true));
        }
        await jest.advanceTimersByTimeAsync((calls.length * 1000) / rate + 5000);
        // Every call started or its operation ended first (no queue bound here: none was shed).
        calls.forEach((_, i) => expect(started[i] !== undefined || aborted[i]).toBe(true));
        const times = started.filter((at) => at !== undefined);
        expect(times).toEqual([...times].sort((a, b) => a - b));
        for (let i = 0; i < times.length; i += 1) {
          for (let j = i; j < times.length; j += 1) {
            expect(j - i + 1).toBeLessThanOrEqual(rate + (rate * (times[j]! - times[i]!)) / 1000 + 1e-9);
          }
        }
        expect(queuedOf(limiter)).toBe(0);
        expect(limiter['addressesTurns'].first).toBeUndefined();
        expect(jest.getTimerCount()).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  it('keeps one timer however many strangers wait, and none once they stop waiting', async () => {
    jest.setSystemTime(0);
    const limiter = limiterOf(1);
    expect(typeof limiter.acquire(STRANGER)).toBe('function');
    const controllers = Array.from({ length: 50 }, () => new AbortController());
    const waiting = controllers.map((c) => limiter.acquire(STRANGER, c.signal) as Promise<Release>);
    expect(waiting.every((w) => w instanceof Promise)).toBe(true);
    expect(jest.getTimerCount()).toBe(1);
    // Unref'd: strangers waiting never keep the process alive.
    expect(limiter['refillTimer']?.hasRef()).toBe(false);
    for (const c of controllers) c.abort(new Error('gone'));
    await Promise.allSettled(waiting);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('sheds a stranger at once when the queue is full, and an accepted caller waits for neither', async () => {
    jest.setSystemTime(0);
    const limiter = limiterOf(1, { queue: 2 });
    const first = limiter.acquire(STRANGER) as Release;
    const waiting = [limiter.acquire(STRANGER), limiter.acquire(STRANGER)];
    expect(waiting.every((w) => w instanceof Promise)).toBe(true);
    expect(limiter.acquire(STRANGER)).toBeUndefined();
    // An accepted caller's call runs at once while strangers wait for tokens …
    const accepted = limiter.acquire({ engine: 'e', caller: 'c' });
    expect(typeof accepted).toBe('function');
    // … and a freed slot skips the strangers who have no token yet.
    first();
    (accepted as Release)();
    expect(queuedOf(limiter)).toBe(2);
    await jest.advanceTimersByTimeAsync(1000);
    expect(queuedOf(limiter)).toBe(1);
    await jest.advanceTimersByTimeAsync(1000);
    expect(queuedOf(limiter)).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('refuses a rate that is not above 0', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new InFlightLimiter({ inFlight: 1, queue: 1, strangers: { inFlight: 1, queue: 1, callsPerSecond: bad } })).toThrow(RangeError);
    }
  });
});

describe("each client address's part of the strangers' share", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const RATE = 10;
  const STRANGERS = { inFlight: 8, queue: 16, callsPerSecond: RATE, perAddress: { inFlight: 2, queue: 4 } };
  const limiterOf = () =>
    new InFlightLimiter({ inFlight: 10_000, queue: 10_000, perCaller: { inFlight: 10_000, queue: 10_000 }, strangers: STRANGERS }, undefined, () => jest.now());
  const from = (address: string | undefined) => ({ stranger: true, address }) as const;

  it('sheds one address’s flood past its quarter at once; another address’s new caller gets a place and starts behind that quarter alone', async () => {
    jest.setSystemTime(0);
    const limiter = limiterOf();
    // Answered at once (a made-up token's 401): only the rate and the queue places bind.
    const started: number[] = [];
    const run = (slot: Release | Promise<Release> | undefined, onStart: () => void = () => {}) => {
      const go = (release: Release) => (onStart(), release());
      if (typeof slot === 'function') go(slot);
      else void slot?.then(go);
      return slot;
    };
    // A burst past the bucket's: the address's quarter of the queue fills, the rest is refused at once.
    const burst = Array.from({ length: 30 }, () => run(limiter.acquire(from('192.0.2.1')), () => started.push(jest.now())));
    expect(started).toHaveLength(RATE);
    expect(burst.filter((slot) => slot instanceof Promise)).toHaveLength(STRANGERS.perAddress.queue);
    expect(burst.filter((slot) => slot === undefined)).toHaveLength(30 - RATE - STRANGERS.perAddress.queue);
    // Then twice the rate, for two seconds.
    for (let i = 0; i < 4 * RATE; i += 1) {
      await jest.advanceTimersByTimeAsync(1000 / (2 * RATE));
      run(limiter.acquire(from('192.0.2.1')));
      expect(limiter['addresses'].get('192.0.2.1')?.queued).toBeLessThanOrEqual(STRANGERS.perAddress.queue);
    }
    const arrived = jest.now();
    let newCallerAt: number | undefined;
    const newCaller = run(limiter.acquire(from('198.51.100.7')), () => (newCallerAt = jest.now()));
    expect(newCaller).toBeInstanceOf(Promise);
    // The flood goes on behind it.
    for (let i = 0; i < 4 * RATE; i += 1) {
      await jest.advanceTimersByTimeAsync(1000 / (2 * RATE));
      run(limiter.acquire(from('192.0.2.1')));
    }
    await jest.advanceTimersByTimeAsync(5000);
    // The quarter's tokens and its own: (quarter + 1) / rate seconds at most.
    expect(newCallerAt).toBeDefined();
    expect(newCallerAt! - arrived).toBeLessThanOrEqual(((STRANGERS.perAddress.queue + 1) * 1000) / RATE);
    expect(limiter['addresses'].size).toBe(0);
  });

  it('keeps a place for a caller from another address when four addresses fill the queue: the largest holder’s newest call gives way', async () => {
    jest.setSystemTime(0);
    const limiter = limiterOf();
    // The bucket spent: every call from here on waits for a token.
    for (let i = 0; i < RATE; i += 1) (limiter.acquire(from('192.0.2.1')) as Release)();
    const refused: string[] = [];
    const flood = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'].flatMap((address) =>
      Array.from({ length: STRANGERS.perAddress.queue }, () => {
        const slot = limiter.acquire(from(address)) as Promise<Release>;
        slot.then((release) => release(), (error: { extensions?: { reason?: string } }) => refused.push(`${address} ${error.extensions?.reason}`));
        return slot;
      }),
    );
    expect(flood.every((slot) => slot instanceof Promise)).toBe(true);
    expect(limiter.acquire(from('192.0.2.1'))).toBeUndefined();
    // A fifth address: a place, and the newest call of one of the four is refused for it.
    const newCaller = limiter.acquire(from('198.51.100.7'));
    expect(newCaller).toBeInstanceOf(Promise);
    await jest.advanceTimersByTimeAsync(0);
    expect(refused).toEqual([expect.stringMatching(/^192\.0\.2\.\d OVERLOADED$/)]);
    // And it starts in its turn.
    let started = false;
    void (newCaller as Promise<Release>).then((release) => ((started = true), release()));
    await jest.advanceTimersByTimeAsync(((STRANGERS.queue + 1) * 1000) / RATE);
    expect(started).toBe(true);
    expect(limiter['addresses'].size).toBe(0);
  });

  it('keeps a place for a caller from another address when as many addresses as places hold one each', async () => {
    jest.setSystemTime(0);
    const limiter = limiterOf();
    for (let i = 0; i < RATE; i += 1) (limiter.acquire(from('192.0.2.1')) as Release)();
    const refused: string[] = [];
    const flood = Array.from({ length: STRANGERS.queue }, (_, i) => {
      const address = `203.0.113.${i + 1}`;
      const slot = limiter.acquire(from(address)) as Promise<Release>;
      slot.then((release) => release(), (error: { extensions?: { reason?: string } }) => refused.push(`${address} ${error.extensions?.reason}`));
      return slot;
    });
    expect(flood.every((slot) => slot instanceof Promise)).toBe(true);
    // One more address of the flood's, holding none: the queue is full and each holds one, so it may take a place too.
    const newCaller = limiter.acquire(from('198.51.100.7'));
    expect(newCaller).toBeInstanceOf(Promise);
    await jest.advanceTimersByTimeAsync(0);
    expect(refused).toEqual([expect.stringMatching(/^203\.0\.113\.\d+ OVERLOADED$/)]);
    // An address that holds one already gets no place from another holding one.
    expect(limiter.acquire(from(`203.0.113.${STRANGERS.queue}`))).toBeUndefined();
    let started = false;
    void (newCaller as Promise<Release>).then((release) => ((started = true), release()));
    await jest.advanceTimersByTimeAsync(((STRANGERS.queue + 1) * 1000) / RATE);
    expect(started).toBe(true);
    expect(limiter['addresses'].size).toBe(0);
  });

  it('serves the queue by address in turn: a fifth address’s new caller starts behind one call of each flooding address, not their whole queue', async () => {
    jest.setSystemTime(0);
    const limiter = limiterOf();
    for (let i = 0; i < RATE; i += 1) (limiter.acquire(from('192.0.2.1')) as Release)();
    const order: string[] = [];
    const wait = (address: string, name: string) =>
      (limiter.acquire(from(address)) as Promise<Release>).then(
        (release) => (order.push(name), release()),
        () => order.push(`${name} refused`),
      );
    // Each address's calls in one burst: first come, first served would put the new caller last.
    for (const [a, address] of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'].entries()) {
      for (let i = 1; i <= STRANGERS.perAddress.queue; i += 1) void wait(address, `${'abcd'[a]}${i}`);
    }
    const arrived = jest.now();
    let newCallerAt: number | undefined;
    void wait('198.51.100.7', 'new').then(() => (newCallerAt = jest.now()));
    await jest.advanceTimersByTimeAsync(((STRANGERS.queue + 1) * 1000) / RATE);
    expect(order).toEqual(['a4 refused', 'a1', 'b1', 'c1', 'd1', 'new', 'a2', 'b2', 'c2', 'd2', 'a3', 'b3', 'c3', 'd3', 'b4', 'c4', 'd4']);
    // One token for each flooding address's call ahead of it, and its own.
    expect(newCallerAt! - arrived).toBeLessThanOrEqual((5 * 1000) / RATE);
    expect(limiter['addresses'].size).toBe(0);
    expect(limiter['addressesTurns'].first).toBeUndefined();
  });

  it('holds one address’s calls to its quarter of the in-flight slots; another address’s, and calls without one, run beside them', () => {
    jest.setSystemTime(0);
    const limiter = limiterOf();
    const held = [limiter.acquire(from('192.0.2.1')), limiter.acquire(from('192.0.2.1'))];
    expect(held.every((slot) => typeof slot === 'function')).toBe(true);
    expect(limiter.acquire(from('192.0.2.1'))).toBeInstanceOf(Promise);
    // Calls without an address (a subscription's poll) are one address of their own.
    expect(typeof limiter.acquire(from(undefined))).toBe('function');
    expect(typeof limiter.acquire(from('198.51.100.7'))).toBe('function');
  });

  it('never lets an address hold more than its quarter of the queue places or in-flight slots, sheds only past a part that is full, and starts calls by address in turn', async () => {
    const ADDRESSES = ['192.0.2.1', '192.0.2.2', '2001:db8::/64', undefined];
    const arrival = fc.record({
      // Mostly at once, faster than the rate: the order shows once the bucket is spent and several addresses wait.
      gap: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: 300 }), weight: 1 }),
      address: fc.constantFrom(...ADDRESSES),
      hold: fc.integer({ min: 0, max: 1500 }),
      abortAfter: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(arrival, { minLength: 1, maxLength: 60, size: 'max' }), async (calls) => {
        jest.setSystemTime(0);
        const limiter = limiterOf();
        const running = new Map<string | undefined, number>();
        const queued = new Map<string | undefined, number>();
        const bump = (counts: Map<string | undefined, number>, address: string | undefined, by: number) => counts.set(address, (counts.get(address) ?? 0) + by);
        const check = () => {
          for (const address of ADDRESSES) {
            expect(running.get(address) ?? 0).toBeLessThanOrEqual(STRANGERS.perAddress.inFlight);
            expect(queued.get(address) ?? 0).toBeLessThanOrEqual(STRANGERS.perAddress.queue);
          }
        };
        // The order: each address's calls waiting in arrival order, and the addresses with calls waiting in
        // turn. A call starts from the first address in turn under its part of the slots, which then goes
        // last; an address joins last, and leaves with its last call waiting. The model hears of each wait,
        // start and end in the order the limiter made them (each through a promise's callback, in turn).
        const waiting = new Map<string | undefined, number[]>();
        const turns: Array<string | undefined> = [];
        const starts: Array<{ call: number; model: number | undefined }> = [];
        const wait = (i: number) => {
          const { address } = calls[i]!;
          const mine = waiting.get(address) ?? [];
          if (mine.push(i) === 1) (waiting.set(address, mine), turns.push(address));
        };
        const leave = (i: number) => {
          const { address } = calls[i]!;
          const mine = waiting.get(address) ?? [];
          mine.splice(mine.indexOf(i), 1);
          if (mine.length === 0) (waiting.delete(address), turns.splice(turns.indexOf(address), 1));
        };
        const run = (i: number, release: Release) => {
          const { address, hold } = calls[i]!;
          const next = turns.find((a) => (running.get(a) ?? 0) < STRANGERS.perAddress.inFlight);
          starts.push({ call: i, model: waiting.get(next)?.[0] });
          leave(i);
          if (waiting.has(address)) turns.push(...turns.splice(turns.indexOf(address), 1));
          bump(running, address, 1);
          check();
          setTimeout(() => (bump(running, address, -1), release()), hold);
        };
        for (const [i, call] of calls.entries()) {
          await jest.advanceTimersByTimeAsync(call.gap);
          check();
          const controller = new AbortController();
          if (call.abortAfter !== undefined) setTimeout(() => controller.abort(new Error('gone')), call.abortAfter);
          const slot = limiter.acquire(from(call.address), controller.signal);
          if (slot === undefined) {
            const allQueued = [...queued.values()].reduce((sum, n) => sum + n, 0);
            expect((queued.get(call.address) ?? 0) >= STRANGERS.perAddress.queue || allQueued >= STRANGERS.queue).toBe(true);
          } else if (typeof slot === 'function') void Promise.resolve().then(() => (wait(i), run(i, slot)));
          else {
            bump(queued, call.address, 1);
            void Promise.resolve().then(() => wait(i));
            void slot.then(
              (release) => (bump(queued, call.address, -1), run(i, release)),
              () => (bump(queued, call.address, -1), leave(i)),
            );
          }
        }
        await jest.advanceTimersByTimeAsync((calls.length * 1000) / RATE + 5000);
        expect(starts.map(({ call }) => call)).toEqual(starts.map(({ model }) => model));
        // An address's part goes with its last call.
        expect(limiter['addresses'].size).toBe(0);
        expect(turns).toEqual([]);
        expect(jest.getTimerCount()).toBe(0);
      }),
      { numRuns: 100 },
    );
  });
});
