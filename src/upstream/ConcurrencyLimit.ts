/**
 * At most `concurrency` calls running at once; the others wait and start in arrival order as
 * running ones settle. One per GraphQL operation bounds its upstream fan-out (see context.ts).
 *
 * Why not p-limit, which did this before: it gives every limiter accessor properties of its own
 * (`activeCount`, `pendingCount`). V8 gives an object with fresh accessors a hidden class of its
 * own, reachable from the shared one through a transition that only a full (mark-compact)
 * collection clears; young-generation collections treat it as strong. Everything the limiter
 * reached — its queue, the calls' closures and promises, and so the upstream pages they resolved
 * to — therefore survived every young collection and was copied into the old generation, where
 * only the next full collection freed it (test/memory guards it; the figures are in
 * bench/README.md). Invariant: no accessor properties of its own, on this or any per-operation
 * object.
 */
export class ConcurrencyLimit {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly concurrency: number) {
    if (!(Number.isSafeInteger(concurrency) && concurrency >= 1)) {
      throw new RangeError(`ConcurrencyLimit: expected an integer concurrency of at least 1, got ${concurrency}`);
    }
  }

  /** Calls running now. */
  get running(): number {
    return this.active;
  }

  /** Calls waiting for a slot. */
  get pending(): number {
    return this.waiting.length;
  }

  /**
   * Runs `fn` now if a slot is free, otherwise once one frees up. Settles as `fn`'s promise does
   * (a synchronous throw becomes a rejection).
   */
  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.concurrency) return this.start(fn);
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => this.start(fn).then(resolve, reject));
    });
  }

  private start<T>(fn: () => Promise<T>): Promise<T> {
    this.active += 1;
    let result: Promise<T>;
    try {
      result = Promise.resolve(fn());
    } catch (error) {
      result = Promise.reject(error);
    }
    // The caller handles `result`'s rejection; this reaction only frees the slot.
    result.then(this.settled, this.settled);
    return result;
  }

  private readonly settled = (): void => {
    this.active -= 1;
    this.waiting.shift()?.();
  };
}
