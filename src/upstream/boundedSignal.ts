/** A signal bounded in time, with what it holds released on demand (see {@link boundedSignal}). */
export interface BoundedSignal {
  readonly signal: AbortSignal;
  /** Clears the timer and stops listening to the parent; the signal no longer aborts by itself. */
  dispose(): void;
}

/**
 * A signal that aborts when `parent` does (with its reason) or when `ms` have passed (with a
 * `TimeoutError` DOMException, like `AbortSignal.timeout`'s, which the error mapping reads as
 * UPSTREAM_TIMEOUT).
 *
 * What `AbortSignal.any([parent, AbortSignal.timeout(ms)])` means, for one controller, one timer
 * and one listener that `dispose` releases at once. `any` and `timeout` track their signals with
 * weak references and finalization registries, released only by the garbage collector, which is
 * too slow a release for something made for every upstream attempt (bench/README.md, "Measured
 * reasons"). The operation's own bound is a timer on the HTTP request's controller: see httpServer.
 */
export function boundedSignal(parent: AbortSignal, ms: number): BoundedSignal {
  const controller = new AbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, dispose: () => {} };
  }
  const onParentAbort = () => {
    clearTimeout(timer);
    controller.abort(parent.reason);
  };
  const timer = setTimeout(() => {
    parent.removeEventListener('abort', onParentAbort);
    controller.abort(timeoutReason());
  }, ms);
  // Never what keeps a stopping process alive: every owner disposes of it when its work ends.
  timer.unref();
  parent.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParentAbort);
    },
  };
}

/** What a signal aborted by its time bound carries: the reason `AbortSignal.timeout` gives. */
export function timeoutReason(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}
