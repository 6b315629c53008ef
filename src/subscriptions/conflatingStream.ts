/**
 * An async iterator over values pushed into it that holds at most one pending value per key, the
 * newest (conflation): a slow reader costs bounded memory and always reads current values.
 *
 * Pending values are read oldest key first. `end()` lets the reader drain, then finish; `fail(error)`
 * drains, then throws. `return()` (the reader leaving) drops what is pending and runs `onClose` once.
 * Values may carry their size: every change of the bytes held pending is reported (a signed delta),
 * so a socket can bound them across its streams.
 */
export class ConflatingStream<T> implements AsyncGenerator<T, undefined, unknown> {
  private readonly pending = new Map<string, { readonly value: T; readonly bytes: number }>();
  private waiter: { resolve: (result: IteratorResult<T, undefined>) => void; reject: (error: unknown) => void } | undefined;
  private finished = false;
  private failure: { error: unknown } | undefined;
  private closed = false;

  /**
   * @param maxKeys pending keys at most; past it the oldest pending value is dropped (counted as conflated).
   * @param onConflated told each time a pending value is replaced or dropped.
   * @param onClose told once, when the stream ends for whatever reason.
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
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve({ value, done: false });
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
    this.settleWaiter();
  }

  /** No more values: the reader gets what is pending, then `error`. */
  fail(error: unknown): void {
    if (!this.open) return;
    this.failure = { error };
    this.settleWaiter();
  }

  next(): Promise<IteratorResult<T, undefined>> {
    const first = this.pending.keys().next();
    if (!first.done) return Promise.resolve({ value: this.take(first.value)!.value, done: false });
    if (this.closed || this.finished) return this.done();
    if (this.failure !== undefined) {
      const { error } = this.failure;
      this.close();
      return Promise.reject(error);
    }
    if (this.waiter !== undefined) return Promise.reject(new Error('ConflatingStream: next() called again before the last one settled'));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.clear();
    if (this.waiter !== undefined) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve({ value: undefined, done: true });
    }
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

  private settleWaiter(): void {
    if (this.waiter === undefined) return;
    const { resolve, reject } = this.waiter;
    this.waiter = undefined;
    if (this.failure !== undefined) {
      const { error } = this.failure;
      this.close();
      reject(error);
    } else {
      this.close();
      resolve({ value: undefined, done: true });
    }
  }

  private done(): Promise<IteratorResult<T, undefined>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clear();
    this.onClose();
  }

  /** Removes the pending value of `key`, its bytes reported. */
  private take(key: string): { readonly value: T; readonly bytes: number } | undefined {
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
