/**
 * The W3C Trace Context headers a caller may send, checked before they are repeated to the
 * upstream: the gateway forwards a caller's `traceparent`, and a malformed one must not travel on.
 * https://www.w3.org/TR/trace-context/#traceparent-header
 */

export type HeaderLookup = (name: string) => string | undefined;

/** version-traceid-parentid-flags; later versions may append fields after a dash. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[\x21-\x7e]*)?$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);
/** The spec asks vendors to propagate at least 512 characters; we pass no more than that. */
const TRACESTATE = /^[\x20-\x7e]{1,512}$/;

/**
 * `traceparent` (and `tracestate`, which means nothing without it) when the caller sent a valid
 * one, ready to be sent on verbatim; otherwise nothing.
 */
export function incomingTraceHeaders(header: HeaderLookup): Record<string, string> {
  const traceparent = header('traceparent')?.trim();
  if (traceparent === undefined || !isValidTraceparent(traceparent)) return {};
  const out: Record<string, string> = { traceparent };
  const tracestate = header('tracestate')?.trim();
  if (tracestate !== undefined && TRACESTATE.test(tracestate)) out.tracestate = tracestate;
  return out;
}

export function isValidTraceparent(value: string): boolean {
  const match = TRACEPARENT.exec(value);
  if (match === null) return false;
  const [, version, traceId, parentId, , rest] = match;
  // Version ff is forbidden; version 00 has exactly four fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return false;
  return traceId !== ZERO_TRACE_ID && parentId !== ZERO_PARENT_ID;
}
