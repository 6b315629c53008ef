import type { UpstreamEvents } from '../observability/events';
import type { CacheTtls } from './freshness';

/** One operation's freshness: nothing built from it may be kept longer than its stalest part. */
export class CachePolicy {
  private maxAge: number | undefined;
  /** The least time any cached upstream answer it used had left (Infinity: it used none). */
  keepAtMostMs = Number.POSITIVE_INFINITY;

  readonly events: UpstreamEvents = {
    cache: (event) => {
      // A hit that does not say counts as expiring now: nothing built on it is kept.
      if (event.hit) this.keepAtMostMs = Math.min(this.keepAtMostMs, event.ttlLeftMs ?? 0);
    },
  };

  constructor(readonly ttls: CacheTtls) {}

  record(maxAge: number): void {
    if (this.maxAge === undefined || maxAge < this.maxAge) this.maxAge = maxAge;
  }

  /** `private`: answers depend on the token. */
  header(hasErrors: boolean): string {
    const maxAge = hasErrors ? undefined : this.maxAge;
    return maxAge === undefined || maxAge <= 0 ? 'no-store' : `max-age=${maxAge}, private`;
  }
}
