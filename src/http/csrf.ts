import MIMEType from 'whatwg-mimetype';
import type { IncomingHttpHeaders } from 'node:http';

/** Content types a browser sends cross-origin without a preflight (the "simple" ones). */
const NON_PREFLIGHTED_CONTENT_TYPES: ReadonlySet<string> = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

/** Headers whose presence proves the request was preflighted (Apollo's recommended set). */
const PREFLIGHT_HEADERS = ['x-apollo-operation-name', 'apollo-require-preflight'] as const;

/**
 * Whether Apollo Server's CSRF prevention lets this request through (its `preventCsrf`, not
 * exported, with the same MIME parser): the reuse layers answer before Apollo, and must not serve
 * a forged cross-site GET what an honest request stored. `test/http/csrf.test.ts` compares the two.
 */
export function passesCsrfPrevention(headers: IncomingHttpHeaders): boolean {
  const contentType = headers['content-type'];
  // What nearly every GraphQL client sends, decided without parsing: its essence is
  // application/json whatever parameters follow the `;`, and that type is always preflighted.
  if (contentType === 'application/json' || contentType?.startsWith('application/json;') === true) return true;
  if (contentType !== undefined) {
    const parsed = MIMEType.parse(contentType);
    // Apollo lets an unparseable content type through: no browser sends one without a preflight.
    if (parsed === null || !NON_PREFLIGHTED_CONTENT_TYPES.has(parsed.essence)) return true;
  }
  return PREFLIGHT_HEADERS.some((name) => (headers[name]?.length ?? 0) > 0);
}
