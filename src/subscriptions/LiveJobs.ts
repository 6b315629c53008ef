import { ErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
import type { JobEventModel } from '../graphql/models';
import { credentialDigest } from '../cache/scopeKey';
import type { Credentials } from '../upstream/credentials';
import type { CseJob } from '../upstream/types';
import { ConflatingStream } from './conflatingStream';
import { EngineWatch, type WatchOptions } from './EngineWatch';
import { ScopeBudget } from './pollBudget';

export interface LiveJobsEvents {
  /** Engine watches (pollers) running now. */
  pollers?(count: number): void;
  /** A pending event was replaced by a newer one (a slow reader). */
  conflated?(): void;
}

export interface LiveJobsOptions extends WatchOptions {
  /** Events one engine-events stream keeps pending at most (jobs of a page, each kind). */
  readonly maxPendingEvents: number;
  readonly liveEvents: LiveJobsEvents | undefined;
  /** SUBSCRIPTION_MAX_CALLS_PER_POLL: upstream calls one credential scope's watches make per interval at most. */
  readonly maxCallsPerPoll: number;
  /** SUBSCRIPTION_MAX_WATCHED_PER_SCOPE: distinct jobs and engines' events one credential scope watches at most. */
  readonly maxWatchedPerScope: number;
}

/** One caller's watches (one per engine and enterprise project) and the budget they share. */
interface Scope {
  readonly budget: ScopeBudget;
  readonly watches: Set<EngineWatch>;
}

/**
 * The source of every subscription's events: one {@link EngineWatch} per engine and credential
 * scope, made when the first subscriber of it arrives and dropped when the last one leaves.
 * Different tokens never share a watch, a poll or an answer: the scope is in the key.
 *
 * A caller's watches (its token and project's, whatever enterprise projects it names) share one
 * budget of upstream calls per interval, and watch at most
 * `maxWatchedPerScope` distinct things (jobs, engines' events): a subscribe past it is refused
 * with TOO_MANY_WATCHED; one more subscriber of something already watched costs nothing and is not.
 *
 * Streams conflate (see ConflatingStream): whoever reads one slowly gets the newest state of each
 * job when it reads, never a queue of old ones.
 */
export class LiveJobs {
  private readonly watches = new Map<string, EngineWatch>();
  private readonly scopes = new Map<string, Scope>();
  private closed = false;

  constructor(private readonly options: LiveJobsOptions) {}

  /** Watches (pollers) running now. */
  get pollers(): number {
    return this.watches.size;
  }

  /** One job: its state now, then each change; ends after a terminal state, or after `null` for a job that does not exist. */
  jobUpdates(credentials: Credentials, engineId: string, jobId: string): AsyncGenerator<CseJob | null, undefined> {
    if (this.closed) return ended<CseJob | null>();
    const watch = this.watchOf(credentials, engineId, jobId);
    const stream: ConflatingStream<CseJob | null> = new ConflatingStream(1, this.conflated, () => watch.leave(stream, jobId));
    watch.watchJob(jobId, stream);
    return stream;
  }

  /** The engine's newest jobs, each time one is created or changes. */
  engineJobEvents(credentials: Credentials, engineId: string): AsyncGenerator<JobEventModel, undefined> {
    if (this.closed) return ended<JobEventModel>();
    const watch = this.watchOf(credentials, engineId, undefined);
    const stream: ConflatingStream<JobEventModel> = new ConflatingStream(this.options.maxPendingEvents, this.conflated, () => watch.leave(stream));
    watch.watchEvents(stream);
    return stream;
  }

  /** Stops every watch: their subscribers end (the process is stopping). */
  close(): void {
    this.closed = true;
    for (const watch of [...this.watches.values()]) watch.stop();
  }

  private readonly conflated = () => this.options.liveEvents?.conflated?.();

  /** The watch of the scope and engine, made if need be; refuses a new thing to watch past the scope's limit. */
  private watchOf(credentials: Credentials, engineId: string, jobId: string | undefined): EngineWatch {
    const key = `${credentialDigest(credentials)} ${engineId}`;
    // The budget and the count are the caller's — its token and project — whichever enterprise
    // project it names (answers are not: those stay apart per enterprise project). Kept per
    // enterprise project, any caller could multiply them by naming more of them.
    const digest = credentialDigest({ ...credentials, enterpriseProjectId: undefined });
    let watch = this.watches.get(key);
    const scope = this.scopes.get(digest);
    if (scope !== undefined && watch?.watches(jobId) !== true) {
      let watching = 0;
      for (const each of scope.watches) watching += each.watching;
      if (watching >= this.options.maxWatchedPerScope) {
        throw new GatewayError(
          ErrorCode.TOO_MANY_WATCHED,
          `These credentials' subscriptions already watch ${this.options.maxWatchedPerScope} jobs and engines, the most allowed: watch the engine (engineJobEvents) rather than many of its jobs, or close a subscription.`,
          { details: { limit: this.options.maxWatchedPerScope } },
        );
      }
    }
    if (watch === undefined) {
      const owner = scope ?? { budget: new ScopeBudget(this.options.maxCallsPerPoll, this.options.pollMs), watches: new Set<EngineWatch>() };
      this.scopes.set(digest, owner);
      const made: EngineWatch = new EngineWatch(credentials, engineId, this.options, owner.budget, (idle) => {
        // Only the watch under the key: a stopped one may have been replaced already.
        if (this.watches.get(key) === idle) this.watches.delete(key);
        owner.watches.delete(idle);
        if (owner.watches.size === 0 && this.scopes.get(digest) === owner) this.scopes.delete(digest);
        this.options.liveEvents?.pollers?.(this.watches.size);
      });
      owner.watches.add(made);
      this.watches.set(key, (watch = made));
      this.options.liveEvents?.pollers?.(this.watches.size);
    }
    return watch;
  }
}

/** A stream that has ended: what a subscriber gets once the process is stopping (no watch made, nothing polled). */
function ended<T>(): AsyncGenerator<T, undefined> {
  const stream = new ConflatingStream<T>(1, () => {}, () => {});
  stream.end();
  return stream;
}
