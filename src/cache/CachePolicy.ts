import type { CacheTtls } from './freshness';

/** One operation's freshness: nothing built from it may be kept longer than its stalest part. */
export class CachePolicy {
  private maxAge: number | undefined;

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
