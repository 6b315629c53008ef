import { ErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
import type { JobEventModel, JobWatches } from '../graphql/models';
import { credentialDigest } from '../cache/scopeKey';
import type { Credentials } from '../upstream/credentials';
import type { CseJob } from '../upstream/types';
import { ConflatingStream } from './conflatingStream';
import { EngineWatch, type WatchOptions } from './EngineWatch';
import { ScopeBudget } from './pollBudget';

export interface WatchesOptions extends WatchOptions {
  /** Events one engine-events stream keeps pending at most (jobs of a page, each kind). */
  readonly maxPendingEvents: number;
  /** SUBSCRIPTION_MAX_CALLS_PER_POLL: upstream calls one caller's watches make per interval at most. */
  readonly maxCallsPerPoll: number;
  /** SUBSCRIPTION_MAX_WATCHED_PER_SCOPE: distinct jobs and engines' events one caller watches at most. */
  readonly maxWatchedPerScope: number;
}

/** One caller's watches (one per engine and enterprise project) and the budget they share. */
interface Caller {
  readonly budget: ScopeBudget;
  readonly watches: Set<EngineWatch>;
}

/**
 * Every subscription's source: one {@link EngineWatch} per engine and credential scope, made for
 * its first subscriber and dropped after its last. Different tokens never share a watch.
 *
 * A caller (token and project, whatever enterprise projects it names, so naming more of them
 * multiplies nothing) shares one budget of calls per interval among its watches, and watches at
 * most `maxWatchedPerScope` distinct things: one more is refused with TOO_MANY_WATCHED, one more
 * subscriber of something already watched is not.
 */
export class Watches implements JobWatches {
  private readonly watches = new Map<string, EngineWatch>();
  private readonly callers = new Map<string, Caller>();
  private closed = false;

  constructor(private readonly options: WatchesOptions) {}

  /** Watches (pollers) running now. */
  get pollers(): number {
    return this.watches.size;
  }

  jobUpdates(credentials: Credentials, engineId: string, jobId: string): AsyncGenerator<CseJob | null, undefined> {
    if (this.closed) return ended<CseJob | null>();
    const watch = this.watchOf(credentials, engineId, jobId);
    const stream: ConflatingStream<CseJob | null> = new ConflatingStream(1, this.conflated, () => watch.leave(stream, jobId));
    watch.watchJob(jobId, stream);
    return stream;
  }

  engineJobEvents(credentials: Credentials, engineId: string): AsyncGenerator<JobEventModel, undefined> {
    if (this.closed) return ended<JobEventModel>();
    const watch = this.watchOf(credentials, engineId, undefined);
    const max = this.options.maxPendingEvents;
    const stream: ConflatingStream<JobEventModel> = new ConflatingStream(max, this.conflated, () => watch.leave(stream));
    watch.watchEvents(stream);
    return stream;
  }

  /** Stops every watch: their subscribers end (the process is stopping). */
  close(): void {
    this.closed = true;
    for (const watch of [...this.watches.values()]) watch.stop();
  }

  private readonly conflated = () => this.options.metrics?.conflated?.();

  /** The watch of the scope and engine, made if need be; refuses a new thing to watch past the caller's limit. */
  private watchOf(credentials: Credentials, engineId: string, jobId: string | undefined): EngineWatch {
    const key = `${credentialDigest(credentials)} ${engineId}`;
    const digest = credentialDigest({ ...credentials, enterpriseProjectId: undefined });
    let watch = this.watches.get(key);
    const caller = this.callers.get(digest);
    if (caller !== undefined && watch?.watches(jobId) !== true) {
      let watching = 0;
      for (const each of caller.watches) watching += each.watching;
      const limit = this.options.maxWatchedPerScope;
      if (watching >= limit) {
        throw new GatewayError(
          ErrorCode.TOO_MANY_WATCHED,
          `These credentials' subscriptions already watch ${limit} jobs and engines, the most allowed: watch the engine (engineJobEvents) rather than many of its jobs, or close a subscription.`,
          { details: { limit } },
        );
      }
    }
    if (watch === undefined) {
      const owner = caller ?? { budget: new ScopeBudget(this.options.maxCallsPerPoll, this.options.pollMs), watches: new Set() };
      this.callers.set(digest, owner);
      const made: EngineWatch = new EngineWatch(credentials, engineId, this.options, owner.budget, (idle) => {
        // Only the watch under the key: a stopped one may have been replaced already.
        if (this.watches.get(key) === idle) this.watches.delete(key);
        owner.watches.delete(idle);
        if (owner.watches.size === 0 && this.callers.get(digest) === owner) this.callers.delete(digest);
        this.options.metrics?.pollers?.(this.watches.size);
      });
      owner.watches.add(made);
      this.watches.set(key, (watch = made));
      this.options.metrics?.pollers?.(this.watches.size);
    }
    return watch;
  }
}

/** What a subscriber gets once the process is stopping: nothing watched, nothing polled. */
function ended<T>(): AsyncGenerator<T, undefined> {
  const stream = new ConflatingStream<T>(1);
  stream.end();
  return stream;
}
