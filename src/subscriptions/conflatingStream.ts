import type { JobEventModel } from '../graphql/models';

type Entry<T> = { readonly value: T; readonly bytes: number };
type Waiter<T> = { resolve(result: IteratorResult<T, undefined>): void; reject(error: unknown): void };

/** The engine watch behind a subscription's source stream, for its group (EngineWatch). */
export type StreamWatch = { replayable(): boolean; reread(sink: object): void; chargeCall: () => void };

/** One pending value per key, the newest: a slow reader costs bounded memory and reads current values.
 * After `end()` or `fail(error)` the reader drains what is pending; `return()` drops it. */
export class ConflatingStream<T> implements AsyncGenerator<T, undefined, unknown> {
  private readonly pending = new Map<string, Entry<T>>();
  private waiter: Waiter<T> | undefined;
  private finished = false;
  private failure: { error: unknown } | undefined;
  private closed = false;
  /** Set by the watch that makes the stream. */
  watch?: StreamWatch;

  constructor(
    private readonly maxKeys: number,
    private readonly onConflated: () => void = () => {},
    private readonly onClose: () => void = () => {},
    /** Every change of the bytes held pending, so a socket can bound them across its streams. */
    private readonly onPendingBytes: (delta: number) => void = () => {},
  ) {}

  get open(): boolean {
    return !this.finished && this.failure === undefined && !this.closed;
  }

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

  end(): void {
    if (!this.open) return;
    this.finished = true;
    this.close();
  }

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

  /** Ended or failed, it closes only when a reader waits (else that reader's next read drains first). */
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

/** Conflation keys: per job for `jobUpdated`, per job and kind for events (no CREATED lost to a CHANGED). */
export const JOB_KEY = 'job';

export function eventKey(event: unknown): string {
  if (typeof event !== 'object' || event === null || !('kind' in event && 'job' in event)) return JOB_KEY;
  const { job, kind } = event as JobEventModel;
  return `${String(job.id)} ${kind}`;
}

/** When the poll that produced an event answered (`performance.now()`), for the delivery-delay metric. */
const polledAt = new WeakMap<object, number>();

export const markPolled = (event: object, at: number) => polledAt.set(event, at);

export const polledAtOf = (event: unknown) =>
  typeof event === 'object' && event !== null ? polledAt.get(event) : undefined;
