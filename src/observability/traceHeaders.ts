// W3C Trace Context (https://www.w3.org/TR/trace-context/): a malformed one must not travel on.

/** By lower-case name. */
export type HeaderLookup = (name: string) => string | undefined;
type TraceParent = { version: string; traceId: string; parentId: string; flags: string };

/** The spec's fields take 55 characters. */
const MAX_TRACEPARENT_LENGTH = 512;
/** §3.2.2, version 00. */
const TRACEPARENT_FIELDS = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);

/** The spec asks for at least 512 characters; we pass no more. */
const MAX_TRACESTATE_LENGTH = 512;
const MAX_TRACESTATE_MEMBERS = 32;
/** §3.3.1.3: a simple key, or a multi-tenant key `tenant@system`. */
const TRACESTATE_KEY = /^(?:[a-z][a-z0-9_*/-]{0,255}|[a-z0-9][a-z0-9_*/-]{0,240}@[a-z][a-z0-9_*/-]{0,13})$/;
/** §3.3.1.3: printable ASCII except `,` and `=`, not ending in a space. */
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** §3.2.4: version 00 is exactly its four fields; a later version starts as 00 does, followed by the end
 * or a dash (the rest is not ours to read); version ff and all-zero ids are invalid. */
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

/** §3.3.1's list grammar. */
export function validTracestate(value: string): string | undefined {
  if (value.length === 0 || value.length > MAX_TRACESTATE_LENGTH) return undefined;
  let count = 0;
  for (const raw of value.split(',')) {
    const member = raw.trim();
    if (member === '') continue;
    count += 1;
    if (count > MAX_TRACESTATE_MEMBERS) return undefined;
    const equals = member.indexOf('=');
    if (equals <= 0 || !TRACESTATE_KEY.test(member.slice(0, equals))) return undefined;
    if (!TRACESTATE_VALUE.test(member.slice(equals + 1))) return undefined;
  }
  return count === 0 ? undefined : value;
}

/** The caller's valid `traceparent` and `tracestate` (nothing without the former), to be sent on; a later
 * version is rewritten as 00, the one we speak, keeping only the sampled flag 00 defines. */
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
