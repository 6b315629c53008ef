type Entry<T> = { readonly value: T; readonly bytes: number };
type Waiter<T> = { resolve(result: IteratorResult<T, undefined>): void; reject(error: unknown): void };

/**
 * An async iterator over values pushed into it that holds at most one pending value per key, the
 * newest (conflation): a slow reader costs bounded memory and always reads current values.
 *
 * Pending values are read oldest key first. `end()` lets the reader drain, then finish; `fail(error)`
 * drains, then throws. `return()` (the reader leaving) drops what is pending. `onClose` runs once,
 * whatever closed it. Every change of the bytes held pending is reported (a signed delta), so a
 * socket can bound them across its streams.
 */
export class ConflatingStream<T> implements AsyncGenerator<T, undefined, unknown> {
  private readonly pending = new Map<string, Entry<T>>();
  private waiter: Waiter<T> | undefined;
  private finished = false;
  private failure: { error: unknown } | undefined;
  private closed = false;

  /**
   * @param maxKeys pending keys at most; past it the oldest pending value is dropped.
   * @param onConflated told each time a pending value is replaced or dropped.
   */
  constructor(
    private readonly maxKeys: number,
    private readonly onConflated: () => void = () => {},
    private readonly onClose: () => void = () => {},
    private readonly onPendingBytes: (delta: number) => void = () => {},
  ) {}

  get open(): boolean {
    return !this.finished && this.failure === undefined && !this.closed;
  }

  /** `bytes`: what holding the value pending costs (its serialized size). */
  push(key: string, value: T, bytes = 0): void {
    if (!this.open) return;
    if (this.waiter !== undefined) {
      this.waiter.resolve({ value, done: false });
      this.waiter = undefined;
      return;
    }
    if (this.take(key) !== undefined) this.onConflated();
    else if (this.pending.size >= this.maxKeys) {
      this.take(this.pending.keys().next().value as string);
      this.onConflated();
    }
    this.pending.set(key, { value, bytes });
    if (bytes !== 0) this.onPendingBytes(bytes);
  }

  /** No more values: the reader gets what is pending, then the end. */
  end(): void {
    if (!this.open) return;
    this.finished = true;
    this.close();
  }

  /** No more values: the reader gets what is pending, then `error`. */
  fail(error: unknown): void {
    if (!this.open) return;
    this.failure = { error };
    this.close();
  }

  next(): Promise<IteratorResult<T, undefined>> {
    const first = this.pending.keys().next();
    if (!first.done) return Promise.resolve({ value: this.take(first.value)!.value, done: false });
    if (this.closed || this.finished) return this.done();
    if (this.failure !== undefined) {
      this.close(true);
      return Promise.reject(this.failure.error);
    }
    if (this.waiter !== undefined) {
      return Promise.reject(new Error('ConflatingStream: next() called again before the last one settled'));
    }
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.clear();
    this.waiter?.resolve({ value: undefined, done: true });
    this.waiter = undefined;
    return this.done();
  }

  throw(): Promise<IteratorResult<T, undefined>> {
    return this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  private done(): Promise<IteratorResult<T, undefined>> {
    this.close(true);
    return Promise.resolve({ value: undefined, done: true });
  }

  /**
   * Closes once, what is pending dropped; ended or failed, only when a reader waits (else its next
   * read drains first), which then gets the end or the failure.
   */
  private close(now = this.waiter !== undefined): void {
    if (this.closed || !now) return;
    this.closed = true;
    this.clear();
    const waiter = this.waiter;
    this.waiter = undefined;
    if (this.failure !== undefined) waiter?.reject(this.failure.error);
    else waiter?.resolve({ value: undefined, done: true });
    this.onClose();
  }

  /** Removes the pending value of `key`, its bytes reported. */
  private take(key: string): Entry<T> | undefined {
    const entry = this.pending.get(key);
    if (entry === undefined) return undefined;
    this.pending.delete(key);
    if (entry.bytes !== 0) this.onPendingBytes(-entry.bytes);
    return entry;
  }

  private clear(): void {
    let bytes = 0;
    for (const entry of this.pending.values()) bytes += entry.bytes;
    this.pending.clear();
    if (bytes !== 0) this.onPendingBytes(-bytes);
  }
}
