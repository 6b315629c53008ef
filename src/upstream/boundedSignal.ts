interface BoundedSignal {
  readonly signal: AbortSignal;
  /** Clears the timer and stops listening to the parent. */
  dispose(): void;
}

/**
 * `AbortSignal.any([parent, AbortSignal.timeout(ms)])`, with one timer and one listener that
 * `dispose` releases at once: `any` and `timeout` are released only by the garbage collector, too
 * late for something made for every upstream attempt.
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

/** The reason `AbortSignal.timeout` gives, which classifyFailure reads as a timeout. */
export function timeoutReason(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}
