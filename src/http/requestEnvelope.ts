/**
 * Checks on the parts of a GraphQL request Apollo reads before any hook of ours runs, where a
 * value of the wrong shape is not refused by Apollo but breaks it (an HTTP 500, an error-level
 * log line with a stack): the answer is a plain 400 instead.
 *
 * The one such part is the automatic-persisted-query hash: Apollo builds its cache key with
 * `apq:${sha256Hash}`, and an array nested a few thousand levels deep overflows the stack there.
 */
export function requestEnvelopeProblem(extensions: unknown): string | undefined {
  if (typeof extensions !== 'object' || extensions === null) return undefined;
  const persisted = (extensions as { persistedQuery?: unknown }).persistedQuery;
  if (persisted === undefined || persisted === null || typeof persisted !== 'object') return undefined;
  const hash = (persisted as { sha256Hash?: unknown }).sha256Hash;
  if (hash !== undefined && typeof hash !== 'string') return 'extensions.persistedQuery.sha256Hash must be a string.';
  return undefined;
}

/** The `extensions` of a request: the body's (POST), or the `extensions` query parameter (GET). */
export function extensionsOf(body: unknown, search: URLSearchParams): unknown {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) return (body as { extensions?: unknown }).extensions;
  const raw = search.get('extensions');
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    // Apollo answers an unparseable parameter itself, with 400.
    return undefined;
  }
}
