import type { UpstreamEvents } from '../observability/events';
import type { CacheTtls } from './freshness';

/**
 * One operation's freshness, kept on its context while it runs: the shortest `maxAge` (seconds)
 * any fetching field hinted, and the least time any cached upstream answer it used had left —
 * what is built from them must not be kept longer.
 */
export class CachePolicy {
  private maxAge: number | undefined;
  /** How long the operation's result may be kept at most (Infinity: it used no cached answer). */
  keepAtMostMs = Number.POSITIVE_INFINITY;

  /** The sink of the operation's upstream cache lookups. */
  readonly events: UpstreamEvents = {
    cache: (event) => {
      // A hit that does not say counts as expiring now: nothing built on it is kept.
      if (event.hit) this.keepAtMostMs = Math.min(this.keepAtMostMs, event.ttlLeftMs ?? 0);
    },
  };

  constructor(readonly ttls: CacheTtls) {}

  /** A field's value may be reused for `maxAge` seconds: the operation is no fresher than its stalest part. */
  record(maxAge: number): void {
    if (this.maxAge === undefined || maxAge < this.maxAge) this.maxAge = maxAge;
  }

  /** `max-age=N, private` (answers depend on the token); `no-store` with errors or without hints. */
  header(hasErrors: boolean): string {
    const maxAge = hasErrors ? undefined : this.maxAge;
    return maxAge === undefined || maxAge <= 0 ? 'no-store' : `max-age=${maxAge}, private`;
  }
}
