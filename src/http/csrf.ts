import MIMEType from 'whatwg-mimetype';
import type { IncomingHttpHeaders } from 'node:http';

/** What a browser sends cross-origin without a preflight. */
const NON_PREFLIGHTED_CONTENT_TYPES: ReadonlySet<string> = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

/** Their presence proves a preflight (Apollo's set). */
const PREFLIGHT_HEADERS = ['x-apollo-operation-name', 'apollo-require-preflight'] as const;

/** Apollo's `preventCsrf` (not exported), with its MIME parser: the reuse layers answer before Apollo and
 * must not serve a forged cross-site GET what an honest request stored. csrf.test compares them. */
export function passesCsrfPrevention(headers: IncomingHttpHeaders): boolean {
  const contentType = headers['content-type'];
  // What nearly every client sends, decided without parsing: application/json is always preflighted.
  if (contentType === 'application/json' || contentType?.startsWith('application/json;') === true) return true;
  if (contentType !== undefined) {
    const parsed = MIMEType.parse(contentType);
    // Apollo lets an unparseable content type through: no browser sends one without a preflight.
    if (parsed === null || !NON_PREFLIGHTED_CONTENT_TYPES.has(parsed.essence)) return true;
  }
  return PREFLIGHT_HEADERS.some((name) => (headers[name]?.length ?? 0) > 0);
}
