/** Frees a slot taken from an {@link InFlightLimiter}. Calling it more than once does nothing. */
export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
}

/**
 * The process-wide cap on upstream requests in flight, with a bounded queue in front of it. When
 * both are full a call is refused at once (load shedding): waiting callers hold memory and
 * sockets, and past a point they only wait for their own timeout. A queued caller whose signal
 * aborts leaves the queue.
 */
export class InFlightLimiter {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly maxInFlight: number,
    private readonly maxQueue: number,
    /** Told the number in flight after every change (metrics). */
    private readonly onChange: (inFlight: number) => void = () => {},
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * A slot, now or once one frees up; `undefined` when the cap and the queue are both full (shed).
   * Rejects with the signal's reason when it aborts while queued.
   */
  acquire(signal?: AbortSignal): Promise<Release> | undefined {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.maxInFlight) {
      this.active += 1;
      this.onChange(this.active);
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.maxQueue) return undefined;
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      // The slot passes straight to the next waiter: the count in flight does not change.
      if (next !== undefined) next.grant(this.releaser());
      else {
        this.active -= 1;
        this.onChange(this.active);
      }
    };
  }
}
