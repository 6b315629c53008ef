import type { UpstreamEvents } from '../observability/events';
import type { CacheTtls } from './freshness';

/** The header of a response that must not be reused (errors, or nothing worth keeping). */
export const NO_STORE = 'no-store';

/**
 * One operation's freshness, kept on its context while it runs: the shortest `maxAge` (seconds)
 * any fetching field hinted (see `recordCacheHints`), and the least time any cached upstream
 * answer it used had left — what is built from them must not be kept longer.
 */
export class CachePolicy {
  private maxAge: number | undefined;
  private ttlLeftMs = Number.POSITIVE_INFINITY;

  /** The sink of the operation's upstream cache lookups. */
  readonly events: UpstreamEvents = {
    cache: (event) => {
      // A hit that does not say counts as expiring now: nothing built on it is kept.
      if (event.hit) this.ttlLeftMs = Math.min(this.ttlLeftMs, event.ttlLeftMs ?? 0);
    },
  };

  constructor(readonly ttls: CacheTtls) {}

  /** A field's value may be reused for `maxAge` seconds: the operation is no fresher than its stalest part. */
  record(maxAge: number): void {
    if (this.maxAge === undefined || maxAge < this.maxAge) this.maxAge = maxAge;
  }

  /** How long the operation's result may be kept at most (Infinity: it used no cached answer). */
  get keepAtMostMs(): number {
    return this.ttlLeftMs;
  }

  /**
   * `max-age=N, private` when the response has no errors and N > 0, else `no-store` (also when
   * no field hinted: introspection alone). Private: every answer depends on the caller's token.
   */
  header(hasErrors: boolean): string {
    return hasErrors || this.maxAge === undefined || this.maxAge <= 0 ? NO_STORE : `max-age=${this.maxAge}, private`;
  }
}
