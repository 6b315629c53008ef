/**
 * At most `concurrency` calls running at once; the others start in arrival order. One per
 * operation bounds its upstream fan-out. Invariant: no accessor properties of its own (p-limit's
 * make V8 keep everything the limiter reached until a full collection; test/memory guards it).
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
