/** What `AbortSignal.timeout` gives, which classifyFailure reads as a timeout. */
export function timeoutReason(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}
