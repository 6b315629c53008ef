import { setTimeout as sleep } from 'node:timers/promises';

/** What an operation's upstream calls read of a signal: an AbortSignal is one, and so is a {@link PlainAbort}. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { readonly once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * AbortController's `abort` and its signal in one plain object, for one request's or one upstream
 * call's cancellation. Not an AbortController: Node makes each AbortSignal an EventTarget that
 * outlives young collections, a cost every operation paid twice. Listeners are called once, in the
 * order added, with no event; one that throws is reported as an uncaught error, as EventTarget does.
 * Unlike EventTarget: a listener added twice is called twice, one removed by another listener during
 * the abort is still called, and `signal` is the object itself (its holder could abort it): the
 * gateway's own code adds each listener once and never removes one from another. Subscriptions keep
 * AbortController: one per socket or poll, not per operation.
 */
export class PlainAbort implements AbortSignalLike {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] | undefined = undefined;

  get signal(): AbortSignalLike {
    return this;
  }

  /** Every listener is called once, as with `{ once: true }`. */
  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.listeners;
    const at = listeners === undefined ? -1 : listeners.indexOf(listener);
    if (at >= 0) listeners!.splice(at, 1);
  }

  /** The caller left: aborts, or, aborted already because its time was up, now says the caller left (what
   * reads the reason to go on for a caller still there, a large answer's writing, stops). */
  leave(): void {
    if (this.aborted) this.reason = new DOMException('This operation was aborted', 'AbortError');
    else this.abort();
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const listener of listeners ?? []) {
      try {
        listener();
      } catch (error) {
        process.nextTick(() => {
          throw error;
        });
      }
    }
  }
}

/** timers/promises' `setTimeout` with a signal: Node reads only `aborted`, `reason` and the listener methods. */
export function sleepUnlessAborted(ms: number, signal: AbortSignalLike, ref = true): Promise<void> {
  return sleep(ms, undefined, { signal: signal as AbortSignal, ref });
}
