import fc from 'fast-check';
import { InFlightLimiter, type InFlightLimits, type Release, type SlotClaim } from '../../src/upstream/resilience/InFlightLimiter';

// What the limiter holds, read from its fields: it has no accessors of its own (see its comment).
const inFlightOf = (limiter: InFlightLimiter) => limiter['total'].active;
const queuedOf = (limiter: InFlightLimiter) => limiter['total'].queued;
const trackedOf = (limiter: InFlightLimiter) => ({ engines: limiter['engines'].size, callers: limiter['callers'].size });

/** Limits where the shares never bind: the whole-process behaviour alone. */
const whole = (inFlight: number, queue: number): InFlightLimits => ({ inFlight, queue, perEngine: { inFlight, queue }, perCaller: { inFlight, queue } });
const claim = (engine: string | undefined, caller = 'c'): SlotClaim => ({ engine, caller });

describe('InFlightLimiter', () => {
  it('admits up to the cap, queues up to the bound, sheds the rest, and hands slots on in order', async () => {
    const counts: number[] = [];
    const limiter = new InFlightLimiter(whole(2, 1), (n) => counts.push(n));
    // A free slot is granted at once, not as a promise; a queued one is a promise.
    const [r1, r2] = [limiter.acquire(claim('a')), limiter.acquire(claim('b'))] as [Release, Release];
    expect([typeof r1, typeof r2]).toEqual(['function', 'function']);
    const queued = limiter.acquire(claim('c'))!;
    expect(queued).toBeInstanceOf(Promise);
    expect(queuedOf(limiter)).toBe(1);
    expect(limiter.acquire(claim('d'))).toBeUndefined();
    r1();
    r1(); // releasing twice does nothing
    const r3 = await queued;
    expect(inFlightOf(limiter)).toBe(2);
    r2();
    r3();
    expect(inFlightOf(limiter)).toBe(0);
    expect(counts).toEqual([1, 2, 2, 1, 0]);
    expect(trackedOf(limiter)).toEqual({ engines: 0, callers: 0 });
  });

  it('drops a queued caller whose signal aborts, with the signal reason', async () => {
    const limiter = new InFlightLimiter(whole(1, 5));
    const release = await limiter.acquire(claim('a'))!;
    const controller = new AbortController();
    const waiting = limiter.acquire(claim('a'), controller.signal)!;
    controller.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    expect(queuedOf(limiter)).toBe(0);
    release();
    expect(inFlightOf(limiter)).toBe(0);
    expect(trackedOf(limiter)).toEqual({ engines: 0, callers: 0 });
  });

  it('gives one engine no more than its share: a slow engine cannot take the slots or the queue of the others', async () => {
    const limiter = new InFlightLimiter({ inFlight: 4, queue: 4, perEngine: { inFlight: 2, queue: 1 }, perCaller: { inFlight: 4, queue: 4 } });
    const slow = [await limiter.acquire(claim('slow'))!, await limiter.acquire(claim('slow'))!];
    const queuedSlow = limiter.acquire(claim('slow'))!;
    // Past its share of slots and queue, the slow engine's next call is shed at once …
    expect(limiter.acquire(claim('slow'))).toBeUndefined();
    // … while another engine still gets a slot straight away.
    const other = await limiter.acquire(claim('other'))!;
    expect(inFlightOf(limiter)).toBe(3);
    other();
    slow[0]!();
    await expect(queuedSlow).resolves.toEqual(expect.any(Function));
    expect(inFlightOf(limiter)).toBe(2);
  });

  it('passes over queued calls whose engine is at its share, so they do not hold back the others', async () => {
    const limiter = new InFlightLimiter({ inFlight: 2, queue: 4, perEngine: { inFlight: 1, queue: 4 }, perCaller: { inFlight: 2, queue: 4 } });
    const a1 = await limiter.acquire(claim('a'))!;
    const b1 = await limiter.acquire(claim('b'))!;
    const order: string[] = [];
    const a2 = Promise.resolve(limiter.acquire(claim('a'))!).then((release) => (order.push('a2'), release));
    const c1 = Promise.resolve(limiter.acquire(claim('c'))!).then((release) => (order.push('c1'), release));
    // b's slot frees: a2 is first in the queue but engine a is at its share; c1 goes.
    b1();
    await c1;
    expect(order).toEqual(['c1']);
    a1();
    await a2;
    expect(order).toEqual(['c1', 'a2']);
  });

  it('gives one caller no more than its share of slots and queue', async () => {
    const limiter = new InFlightLimiter({ inFlight: 4, queue: 4, perEngine: { inFlight: 4, queue: 4 }, perCaller: { inFlight: 1, queue: 1 } });
    const mine = await limiter.acquire(claim('a', 'me'))!;
    const myQueued = limiter.acquire(claim('b', 'me'))!;
    expect(limiter.acquire(claim('c', 'me'))).toBeUndefined();
    const theirs = await limiter.acquire(claim('a', 'them'))!;
    expect(inFlightOf(limiter)).toBe(2);
    mine();
    await myQueued;
    theirs();
  });

  it('calls without an engine (the engine list) count only against the caller and the whole', async () => {
    const limiter = new InFlightLimiter({ inFlight: 2, queue: 0, perEngine: { inFlight: 1, queue: 0 }, perCaller: { inFlight: 2, queue: 0 } });
    const releases = [await limiter.acquire(claim(undefined))!, await limiter.acquire(claim(undefined))!];
    expect(limiter.acquire(claim(undefined))).toBeUndefined();
    releases.forEach((release) => release());
    expect(trackedOf(limiter)).toEqual({ engines: 0, callers: 0 });
  });

  it("takes turns by caller: a caller's call waits behind one call of each other caller with calls waiting, not behind all they queued", async () => {
    const limiter = new InFlightLimiter({ inFlight: 1, queue: 16, perEngine: { inFlight: 1, queue: 16 }, perCaller: { inFlight: 1, queue: 16 } });
    const order: string[] = [];
    let running = limiter.acquire(claim('e', 'many')) as Release;
    const queue = (caller: string, name: string) =>
      void Promise.resolve(limiter.acquire(claim('e', caller))!).then((release) => {
        order.push(name);
        running = release;
      });
    for (const [caller, name] of [['many', 'm1'], ['many', 'm2'], ['many', 'm3'], ['one', 'o1'], ['two', 't1'], ['two', 't2']] as const) queue(caller, name);
    // One slot: each call, once granted, is released, and the next in turn is granted.
    for (let i = 0; i < 7; i += 1) {
      running();
      await flush();
    }
    expect(order).toEqual(['m1', 'o1', 't1', 'm2', 't2', 'm3']);
    expect(trackedOf(limiter)).toEqual({ engines: 0, callers: 0 });
  });

  it('hands a freed slot on, and every other that may run then: the freed engine share and caller share may each let one run', async () => {
    const limiter = new InFlightLimiter({ inFlight: 4, queue: 8, perEngine: { inFlight: 1, queue: 8 }, perCaller: { inFlight: 3, queue: 8 } });
    const releases = [limiter.acquire(claim('a', 'x')), limiter.acquire(claim('c', 'x')), limiter.acquire(claim('d', 'x'))] as Release[];
    const granted: string[] = [];
    // One waits for engine a, the other for caller x's share.
    void Promise.resolve(limiter.acquire(claim('a', 'y'))!).then(() => granted.push('a/y'));
    void Promise.resolve(limiter.acquire(claim('b', 'x'))!).then(() => granted.push('b/x'));
    releases[0]!();
    await flush();
    expect([granted.sort(), inFlightOf(limiter), queuedOf(limiter)]).toEqual([['a/y', 'b/x'], 4, 0]);
  });

  it('never exceeds any bound, serves every admitted call exactly once and forgets every share, whatever the calls', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('acquire' as const), engine: fc.constantFrom('a', 'b', 'c', undefined), caller: fc.constantFrom('x', 'y'), abortable: fc.boolean() }),
      fc.record({ kind: fc.constant('release' as const), index: fc.nat(20) }),
      fc.record({ kind: fc.constant('abort' as const), index: fc.nat(20) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 4 }), async (steps, engineShare, queue) => {
        const limits = { inFlight: 4, queue, perEngine: { inFlight: engineShare, queue: Math.max(0, queue - 1) }, perCaller: { inFlight: 3, queue } };
        const limiter = new InFlightLimiter(limits);
        const running: Array<{ claim: SlotClaim; release: Release }> = [];
        const waiting: Array<{ controller: AbortController; settled: boolean; claim: SlotClaim }> = [];
        const check = () => {
          expect(inFlightOf(limiter)).toBeLessThanOrEqual(limits.inFlight);
          expect(queuedOf(limiter)).toBeLessThanOrEqual(limits.queue);
          const byEngine = new Map<string, number>();
          const byCaller = new Map<string, number>();
          for (const { claim: c } of running) {
            if (c.engine !== undefined) byEngine.set(c.engine, (byEngine.get(c.engine) ?? 0) + 1);
            byCaller.set(c.caller!, (byCaller.get(c.caller!) ?? 0) + 1);
          }
          for (const n of byEngine.values()) expect(n).toBeLessThanOrEqual(limits.perEngine.inFlight);
          for (const n of byCaller.values()) expect(n).toBeLessThanOrEqual(limits.perCaller.inFlight);
          expect(running.length).toBe(inFlightOf(limiter));
          // No slot stays free while a waiting call could take it.
          const couldRun = ({ claim: c }: { claim: SlotClaim }) =>
            running.length < limits.inFlight &&
            (byCaller.get(c.caller!) ?? 0) < limits.perCaller.inFlight &&
            (c.engine === undefined || (byEngine.get(c.engine) ?? 0) < limits.perEngine.inFlight);
          expect(waiting.filter((entry) => !entry.settled && !entry.controller.signal.aborted && couldRun(entry)).map((entry) => entry.claim)).toEqual([]);
        };
        for (const s of steps) {
          if (s.kind === 'acquire') {
            const controller = new AbortController();
            const c = claim(s.engine, s.caller);
            const slot = limiter.acquire(c, s.abortable ? controller.signal : undefined);
            if (slot === undefined) continue;
            const entry = { controller, settled: false, claim: c };
            waiting.push(entry);
            Promise.resolve(slot).then(
              (release) => {
                expect(entry.settled).toBe(false);
                entry.settled = true;
                running.push({ claim: c, release });
              },
              () => {
                entry.settled = true;
              },
            );
          } else if (s.kind === 'release') {
            const [done] = running.splice(s.index % Math.max(1, running.length), 1);
            done?.release();
          } else {
            waiting[s.index % Math.max(1, waiting.length)]?.controller.abort(new Error('gone'));
          }
          await new Promise((resolve) => setImmediate(resolve));
          check();
        }
        // Draining: everything still waiting gets its slot in turn, or was aborted.
        while (running.length > 0) {
          running.shift()!.release();
          await new Promise((resolve) => setImmediate(resolve));
          check();
        }
        for (const entry of waiting) if (!entry.settled) entry.controller.abort(new Error('end'));
        await new Promise((resolve) => setImmediate(resolve));
        while (running.length > 0) running.shift()!.release();
        expect(inFlightOf(limiter)).toBe(0);
        expect(queuedOf(limiter)).toBe(0);
        expect(trackedOf(limiter)).toEqual({ engines: 0, callers: 0 });
      }),
      {
        numRuns: 200,
        // One release freeing both an engine's share and a caller's, each of which a waiter waits for.
        examples: [
          [
            [
              { kind: 'acquire', engine: 'a', caller: 'x', abortable: false },
              { kind: 'acquire', engine: 'b', caller: 'x', abortable: false },
              { kind: 'acquire', engine: 'c', caller: 'x', abortable: false },
              { kind: 'acquire', engine: 'a', caller: 'y', abortable: false },
              { kind: 'acquire', engine: undefined, caller: 'x', abortable: false },
              { kind: 'release', index: 0 },
            ],
            1,
            4,
          ],
        ],
      },
    );
  });
});

/** A promise settled from outside, to drive the order in which calls finish. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("InFlightLimiter.run: an operation's own fan-out", () => {
  it('never runs more than its concurrency, starts waiting calls in arrival order, and runs every call once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        // For each call: whether it fails, and when it settles relative to the others.
        fc.array(fc.record({ fails: fc.boolean(), rank: fc.nat() }), { minLength: 1, maxLength: 12 }),
        async (concurrency, calls) => {
          const limit = new InFlightLimiter({ inFlight: concurrency, queue: Infinity });
          const started: number[] = [];
          let running = 0;
          let maxRunning = 0;
          const gates = calls.map(() => deferred<void>());
          const results = calls.map((call, i) =>
            limit
              .run(async () => {
                started.push(i);
                running += 1;
                maxRunning = Math.max(maxRunning, running);
                try {
                  await gates[i]!.promise;
                  if (call.fails) throw new Error(`call ${i} failed`);
                  return i;
                } finally {
                  running -= 1;
                }
              })
              .then(
                (value) => ({ ok: true as const, value }),
                (error: Error) => ({ ok: false as const, message: error.message }),
              ),
          );
          // Finish the running calls in an arbitrary order (lowest rank first), letting waiting
          // calls start in between.
          const opened = new Set<number>();
          await flush();
          while (opened.size < calls.length) {
            const next = started.filter((i) => !opened.has(i)).sort((a, b) => calls[a]!.rank - calls[b]!.rank || a - b)[0];
            if (next === undefined) throw new Error('no call running while some never started');
            opened.add(next);
            gates[next]!.resolve();
            await flush();
          }
          const settled = await Promise.all(results);

          expect(maxRunning).toBeLessThanOrEqual(concurrency);
          expect([...started].sort((a, b) => a - b)).toEqual(calls.map((_, i) => i));
          // Calls beyond the first `concurrency` start in arrival order.
          expect(started.slice(concurrency)).toEqual([...started.slice(concurrency)].sort((a, b) => a - b));
          settled.forEach((result, i) =>
            expect(result).toEqual(calls[i]!.fails ? { ok: false, message: `call ${i} failed` } : { ok: true, value: i }),
          );
          expect(inFlightOf(limit)).toBe(0);
          expect(queuedOf(limit)).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('turns a synchronous throw into a rejection and frees the slot', async () => {
    const limit = new InFlightLimiter({ inFlight: 1, queue: Infinity });
    await expect(
      limit.run(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await expect(limit.run(async () => 'next')).resolves.toBe('next');
    expect(inFlightOf(limit)).toBe(0);
  });

  it('frees the slot of an attempt whose operation sink throws when told of it', async () => {
    const limiter = new InFlightLimiter(whole(1, 0));
    const inFlight = () => {
      throw new Error('sink');
    };
    const attempt = { engineKey: 'e', digest: 'c', caller: 'c', route: 'listJobs', events: {}, request: { events: { inFlight } } };
    const next = jest.fn(async () => ({ ok: true }));
    const run = limiter.stage()(next as never);
    await expect(run(attempt as never)).rejects.toThrow('sink');
    expect(inFlightOf(limiter)).toBe(0);
  });

  it('refuses a concurrency that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new InFlightLimiter({ inFlight: bad, queue: Infinity })).toThrow(RangeError);
    }
  });

  it('has no accessor properties of its own (the reason it replaced p-limit: see the class comment)', () => {
    const limit = new InFlightLimiter({ inFlight: 2, queue: Infinity });
    const own = Object.getOwnPropertyDescriptors(limit);
    for (const descriptor of Object.values(own)) {
      expect(descriptor.get).toBeUndefined();
      expect(descriptor.set).toBeUndefined();
    }
  });
});
