import type { JobEventModel } from '../graphql/models';
import { credentialDigest } from '../upstream/cache/scopeKey';
import type { Credentials } from '../upstream/credentials';
import type { CseJob } from '../upstream/types';
import { ConflatingStream } from './conflatingStream';
import { EngineWatch, type WatchOptions } from './EngineWatch';

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
}

/**
 * The source of every subscription's events: one {@link EngineWatch} per engine and credential
 * scope, made when the first subscriber of it arrives and dropped when the last one leaves.
 * Different tokens never share a watch, a poll or an answer: the scope is in the key.
 *
 * Streams conflate (see ConflatingStream): whoever reads one slowly gets the newest state of each
 * job when it reads, never a queue of old ones.
 */
export class LiveJobs {
  private readonly watches = new Map<string, EngineWatch>();
  private closed = false;

  constructor(private readonly options: LiveJobsOptions) {}

  /** Watches (pollers) running now. */
  get pollers(): number {
    return this.watches.size;
  }

  /** One job: its state now, then each change; ends after a terminal state, or after `null` for a job that does not exist. */
  jobUpdates(credentials: Credentials, engineId: string, jobId: string): AsyncGenerator<CseJob | null, undefined> {
    if (this.closed) return ended<CseJob | null>();
    const watch = this.watchOf(credentials, engineId);
    const stream: ConflatingStream<CseJob | null> = new ConflatingStream(1, this.conflated, () => watch.leave(stream, jobId));
    watch.watchJob(jobId, stream);
    return stream;
  }

  /** The engine's newest jobs, each time one is created or changes. */
  engineJobEvents(credentials: Credentials, engineId: string): AsyncGenerator<JobEventModel, undefined> {
    if (this.closed) return ended<JobEventModel>();
    const watch = this.watchOf(credentials, engineId);
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

  private watchOf(credentials: Credentials, engineId: string): EngineWatch {
    const key = `${credentialDigest(credentials)} ${engineId}`;
    let watch = this.watches.get(key);
    if (watch === undefined) {
      watch = new EngineWatch(credentials, engineId, this.options, (idle) => {
        // Only the watch under the key: a stopped one may have been replaced already.
        if (this.watches.get(key) === idle) this.watches.delete(key);
        this.options.liveEvents?.pollers?.(this.watches.size);
      });
      this.watches.set(key, watch);
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
