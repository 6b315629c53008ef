import type { GatewayConfig } from '../config/loadConfig';
import { ErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
import type { JobEventModel, JobWatches } from '../graphql/models';
import { credentialDigest } from '../cache/scopeKey';
import type { SubscriptionMetrics } from '../observability/metrics';
import type { CseHttpClient } from '../upstream/CseHttpClient';
import type { Credentials } from '../upstream/credentials';
import type { CseJob } from '../upstream/types';
import { ConflatingStream } from './conflatingStream';
import { EngineWatch, type WatchFleet } from './EngineWatch';
import { ScopeBudget } from './pollBudget';

export type { WatchFleet } from './EngineWatch';

/** The metrics the watches report. */
export type WatchMetrics = Pick<SubscriptionMetrics, 'poll' | 'pollers' | 'conflated'>;

/**
 * Engine events one subscriber keeps pending at most: every job of the pages polled, created and
 * changed (the conflation keys), so a slow reader loses no job, only intermediate states.
 */
export function maxPendingEvents(config: GatewayConfig): number {
  return 2 * config.upstream.paging.maxPageSize * config.subscriptions.listPages;
}

/**
 * Every subscription's source: one {@link EngineWatch} per engine and credential scope, made for
 * its first subscriber and dropped after its last. Different tokens never share a watch.
 *
 * A caller (token and project, whatever enterprise projects it names, so naming more of them
 * multiplies nothing) shares one budget of calls per interval among its watches, and watches at
 * most SUBSCRIPTION_MAX_WATCHED_PER_SCOPE distinct things: one more is refused with
 * TOO_MANY_WATCHED, one more subscriber of something already watched is not.
 */
export class Watches implements JobWatches {
  private readonly watches = new Map<string, EngineWatch>();
  /** Each caller's budget, whose members are its watches. */
  private readonly callers = new Map<string, ScopeBudget<EngineWatch>>();
  private closed = false;

  constructor(
    readonly config: GatewayConfig,
    readonly http: CseHttpClient,
    readonly metrics: WatchMetrics,
    readonly fleet?: WatchFleet,
  ) {}

  /** Watches (pollers) running now. */
  get pollers(): number {
    return this.watches.size;
  }

  jobUpdates(credentials: Credentials, engineId: string, jobId: string): AsyncGenerator<CseJob | null> {
    const watch = this.watchOf(credentials, engineId, jobId);
    const stream = new ConflatingStream<CseJob | null>(1, this.conflated, () => watch?.leave(stream, jobId));
    if (watch === undefined) stream.end();
    else watch.watchJob(jobId, stream);
    return stream;
  }

  engineJobEvents(credentials: Credentials, engineId: string): AsyncGenerator<JobEventModel> {
    const watch = this.watchOf(credentials, engineId);
    const max = maxPendingEvents(this.config);
    const stream = new ConflatingStream<JobEventModel>(max, this.conflated, () => watch?.leave(stream));
    if (watch === undefined) stream.end();
    else watch.watchEvents(stream);
    return stream;
  }

  /** Stops every watch: their subscribers end (the process is stopping). */
  close(): void {
    this.closed = true;
    for (const watch of [...this.watches.values()]) watch.stop();
  }

  private readonly conflated = () => this.metrics.conflated();

  /**
   * The watch of the scope and engine, made if need be (none once closed); refuses a new thing to
   * watch past the caller's limit.
   */
  private watchOf(credentials: Credentials, engineId: string, jobId?: string): EngineWatch | undefined {
    if (this.closed) return undefined;
    const key = `${credentialDigest(credentials)} ${engineId}`;
    const digest = credentialDigest({ ...credentials, enterpriseProjectId: undefined });
    let watch = this.watches.get(key);
    let budget = this.callers.get(digest);
    if (budget !== undefined && watch?.watches(jobId) !== true) {
      const limit = this.config.subscriptions.maxWatchedPerScope;
      if (budget.members.reduce((sum, each) => sum + each.watching, 0) >= limit) {
        const message =
          `These credentials' subscriptions already watch ${limit} jobs and engines, the most allowed: ` +
          'watch the engine (engineJobEvents) rather than many of its jobs, or close a subscription.';
        throw new GatewayError(ErrorCode.TOO_MANY_WATCHED, message, { details: { limit } });
      }
    }
    if (watch === undefined) {
      const { maxCallsPerPoll, pollMs } = this.config.subscriptions;
      budget ??= new ScopeBudget<EngineWatch>(maxCallsPerPoll, pollMs);
      this.callers.set(digest, budget);
      const owner = budget;
      watch = new EngineWatch(credentials, engineId, this, owner, (idle) => {
        // Only the watch under the key: a stopped one may have been replaced already.
        if (this.watches.get(key) === idle) this.watches.delete(key);
        if (owner.members.length === 0 && this.callers.get(digest) === owner) this.callers.delete(digest);
        this.metrics.pollers(this.watches.size);
      });
      this.watches.set(key, watch);
      this.metrics.pollers(this.watches.size);
    }
    return watch;
  }
}
