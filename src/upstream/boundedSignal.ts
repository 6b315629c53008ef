// AbortSignal.any with a timeout whose timer and listener `dispose` frees at once, not at the next GC.
export function boundedSignal(parent: AbortSignal, ms: number): { signal: AbortSignal; readonly dispose: () => void } {
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

/** What `AbortSignal.timeout` gives, which classifyFailure reads as a timeout. */
export function timeoutReason(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}
