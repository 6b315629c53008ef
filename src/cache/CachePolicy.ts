import type { CacheTtls } from './freshness';

/** The header of a response that must not be reused (errors, or nothing worth keeping). */
export const NO_STORE = 'no-store';

/**
 * One operation's freshness: the shortest `maxAge` (seconds) any fetching field hinted, kept on
 * the context while the operation runs (see `recordCacheHints`) and turned into the response's
 * `Cache-Control` at the end (see `cacheControlPlugins`). Recording in the few fields that fetch,
 * instead of a hook on every field, is what keeps Apollo from wrapping each resolver.
 */
export class CachePolicy {
  private maxAge: number | undefined;

  constructor(readonly ttls: CacheTtls) {}

  /** A field's value may be reused for `maxAge` seconds: the operation is no fresher than its stalest part. */
  record(maxAge: number): void {
    if (this.maxAge === undefined || maxAge < this.maxAge) this.maxAge = maxAge;
  }

  /**
   * What Apollo's cache-control plugin wrote: `max-age=N, private` when the response has no
   * errors and N > 0; `no-store` otherwise — also when no field hinted anything, which only an
   * operation of introspection alone does (every other root field hints, see `fieldMaxAge`).
   * Always PRIVATE: every answer depends on the caller's token.
   */
  header(hasErrors: boolean): string {
    return hasErrors || this.maxAge === undefined || this.maxAge <= 0 ? NO_STORE : `max-age=${this.maxAge}, private`;
  }
}
