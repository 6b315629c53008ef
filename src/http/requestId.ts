import { randomUUID } from 'node:crypto';

/** The header that carries a request id in both directions. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Ids a caller may choose: what proxies and tracing systems generate (UUIDs, hex, base64,
 * `service:counter`), at most 128 characters. Nothing that could break a log line, a header or a
 * shell: no spaces, quotes, commas or control characters.
 */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:+\/=@-]{1,128}$/;

/**
 * The id of one HTTP request: the caller's `X-Request-Id` when it is safe to repeat in logs and
 * headers, otherwise a fresh UUID. An unsafe id is replaced, not refused: an id exists to find
 * log lines, and a request should never fail because of one.
 */
export function requestIdFrom(incoming: string | readonly string[] | undefined, generate: () => string = randomUUID): string {
  // Node joins repeated unknown headers with ", ", which the pattern refuses; an array only
  // arrives from callers that built the headers themselves.
  const value = typeof incoming === 'string' ? incoming.trim() : undefined;
  return value !== undefined && SAFE_REQUEST_ID.test(value) ? value : generate();
}
