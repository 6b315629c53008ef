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

export type WatchMetrics = Pick<SubscriptionMetrics, 'poll' | 'pollers' | 'conflated'>;

/** Every job of the pages polled, created and changed: a slow reader loses no job, only intermediate states. */
export function maxPendingEvents(config: GatewayConfig): number {
  return 2 * config.upstream.paging.maxPageSize * config.subscriptions.listPages;
}

/**
 * One {@link EngineWatch} per engine and credential scope, from its first subscriber to its last.
 * A caller's budget and watched bound are per token and project: naming more enterprise projects
 * multiplies neither.
 */
export class Watches implements JobWatches {
  private readonly watches = new Map<string, EngineWatch>();
  private readonly callers = new Map<string, ScopeBudget<EngineWatch>>();
  private closed = false;

  constructor(
    readonly config: GatewayConfig,
    readonly http: CseHttpClient,
    readonly metrics: WatchMetrics,
    readonly fleet?: WatchFleet,
  ) {}

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

  /** The process is stopping: every watch stops, and its subscribers end. */
  close(): void {
    this.closed = true;
    for (const watch of [...this.watches.values()]) watch.stop();
  }

  private readonly conflated = () => this.metrics.conflated();

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
