import fc from 'fast-check';
import { ConcurrencyLimit } from '../../src/upstream/ConcurrencyLimit';

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

describe('ConcurrencyLimit', () => {
  it('never runs more than its concurrency, starts waiting calls in arrival order, and runs every call once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        // For each call: whether it fails, and when it settles relative to the others.
        fc.array(fc.record({ fails: fc.boolean(), rank: fc.nat() }), { minLength: 1, maxLength: 12 }),
        async (concurrency, calls) => {
          const limit = new ConcurrencyLimit(concurrency);
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
          expect(limit.running).toBe(0);
          expect(limit.pending).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('turns a synchronous throw into a rejection and frees the slot', async () => {
    const limit = new ConcurrencyLimit(1);
    await expect(
      limit.run(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await expect(limit.run(async () => 'next')).resolves.toBe('next');
    expect(limit.running).toBe(0);
  });

  it('refuses a concurrency that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new ConcurrencyLimit(bad)).toThrow(RangeError);
    }
  });

  it('has no accessor properties of its own (the reason it replaced p-limit: see the module comment)', () => {
    const limit = new ConcurrencyLimit(2);
    const own = Object.getOwnPropertyDescriptors(limit);
    for (const descriptor of Object.values(own)) {
      expect(descriptor.get).toBeUndefined();
      expect(descriptor.set).toBeUndefined();
    }
  });
});
