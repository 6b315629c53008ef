/**
 * The W3C Trace Context headers a caller may send, checked before they are repeated to the
 * upstream: a malformed trace context must not travel on. https://www.w3.org/TR/trace-context/
 */

export type HeaderLookup = (name: string) => string | undefined;
type TraceParent = { version: string; traceId: string; parentId: string; flags: string };

/** A `traceparent` longer than this is not parsed at all (the spec's fields take 55 characters). */
const MAX_TRACEPARENT_LENGTH = 512;
/** version "-" trace-id "-" parent-id "-" trace-flags: the layout of version 00 (§3.2.2). */
const TRACEPARENT_FIELDS = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);

/** The spec asks vendors to propagate at least 512 characters of `tracestate`; we pass no more. */
const MAX_TRACESTATE_LENGTH = 512;
const MAX_TRACESTATE_MEMBERS = 32;
/** §3.3.1.3: a simple key, or a multi-tenant key `tenant@system`. */
const TRACESTATE_KEY = /^(?:[a-z][a-z0-9_*/-]{0,255}|[a-z0-9][a-z0-9_*/-]{0,240}@[a-z][a-z0-9_*/-]{0,13})$/;
/** §3.3.1.3: printable ASCII except `,` and `=`, not ending in a space. */
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * A `traceparent` parsed as §3.2.4 says a vendor that knows version 00 parses any version:
 * version 00 is exactly its four fields; a later version is at least as long, its first 55
 * characters laid out as version 00's and followed by the end or a dash (what comes after is that
 * version's, and is not ours to read); version ff is invalid, as are all-zero ids.
 */
export function parseTraceparent(value: string): TraceParent | undefined {
  if (value.length > MAX_TRACEPARENT_LENGTH) return undefined;
  const match = TRACEPARENT_FIELDS.exec(value);
  if (match === null) return undefined;
  const [fields, version, traceId, parentId, flags] = match as unknown as [string, string, string, string, string];
  if (version === 'ff' || traceId === ZERO_TRACE_ID || parentId === ZERO_PARENT_ID) return undefined;
  const rest = value.length > fields.length;
  if (version === '00' ? rest : rest && value[fields.length] !== '-') return undefined;
  return { version, traceId, parentId, flags };
}

/** A `tracestate` that follows the list grammar of §3.3.1, or `undefined`. */
export function validTracestate(value: string): string | undefined {
  if (value.length === 0 || value.length > MAX_TRACESTATE_LENGTH) return undefined;
  let count = 0;
  for (const raw of value.split(',')) {
    const member = raw.trim();
    // Empty list members are allowed (and ignored) by the grammar.
    if (member === '') continue;
    count += 1;
    if (count > MAX_TRACESTATE_MEMBERS) return undefined;
    const equals = member.indexOf('=');
    if (equals <= 0 || !TRACESTATE_KEY.test(member.slice(0, equals))) return undefined;
    if (!TRACESTATE_VALUE.test(member.slice(equals + 1))) return undefined;
  }
  return count === 0 ? undefined : value;
}

/**
 * `traceparent` and `tracestate` (which means nothing without it) when the caller sent valid
 * ones, ready to be sent on; otherwise nothing. The `traceparent` is always version 00, the one
 * this gateway speaks: a later version is rewritten from the fields it shares with 00 (its own
 * trailing part, of unknown meaning, stays behind), keeping only the sampled flag, the one 00 defines.
 */
export function incomingTraceHeaders(header: HeaderLookup): Record<string, string> {
  const traceparent = header('traceparent')?.trim();
  const parent = traceparent === undefined ? undefined : parseTraceparent(traceparent);
  if (parent === undefined) return {};
  const sampled = (parseInt(parent.flags, 16) & 0x01) === 0x01 ? '01' : '00';
  const out: Record<string, string> = {
    traceparent: parent.version === '00' ? traceparent! : `00-${parent.traceId}-${parent.parentId}-${sampled}`,
  };
  const tracestate = header('tracestate')?.trim();
  const state = tracestate === undefined ? undefined : validTracestate(tracestate);
  if (state !== undefined) out.tracestate = state;
  return out;
}
