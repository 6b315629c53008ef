import { PlainAbort } from '../cache/abort';
import { CallerShareCache } from '../cache/CallerShareCache';
import { callerDigest, credentialDigest } from '../cache/scopeKey';
import type { GatewayConfig } from '../config/loadConfig';
import { ErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
import type { AnswersBeingMade } from '../graphql/execution/answersBeingMade';
import { OperationBudget } from '../graphql/execution/operationBudget';
import type { JobEventModel, JobWatches } from '../graphql/models';
import type { SubscriptionMetrics } from '../observability/metrics';
import { InFlightLimiter } from '../upstream/resilience/InFlightLimiter';
import { CseApi } from '../upstream/CseApi';
import { timeoutReason } from '../upstream/errorMapping';
import type { CseHttpClient } from '../upstream/CseHttpClient';
import type { Credentials } from '../upstream/credentials';
import { isTerminalJob } from '../upstream/jobStatus';
import { TurnMeter } from '../upstream/turns';
import type { CseJob } from '../upstream/types';
import { deadlineIn } from '../upstream/stages/types';
import { ConflatingStream, eventKey, JOB_KEY, markPolled } from './conflatingStream';
import { fingerprintDigest, jobFingerprint } from './jobFingerprint';
import { dueFirst, ScopeBudget } from './pollBudget';

export type WatchMetrics = Pick<SubscriptionMetrics, 'poll' | 'pollers' | 'conflated'>;

/** What one poll saw: what a watch delivers, and what the fleet's poller publishes to the others. */
export interface PollResult {
  readonly jobs: readonly CseJob[];
  /** Ids of the newest list page, in order, when the poll read it for engine events. */
  readonly newest: readonly string[] | undefined;
  readonly missing: readonly string[];
  readonly engineMissing: boolean;
  /** Part of the poll failed: what it did read is still news. */
  readonly failed: boolean;
  /** Date.now() as its reads began: orders results across replicas. An older replica's have none. */
  readonly startedAt?: number;
}

type Targets = { readonly jobIds: readonly string[]; readonly events: boolean };

/** A result's jobs' fingerprints, and whether its newest page's are among them. */
type Fingerprints = { readonly byJob: ReadonlyMap<CseJob, string>; readonly events: boolean };

/** At one tick: poll the upstream (and `publish` the result to the fleet), or listen to another replica's. */
export type PollPlan =
  | (Targets & { readonly role: 'poll'; readonly publish: boolean })
  | { readonly role: 'listen' };

type Poll = PollPlan & { readonly role: 'poll' };

export interface WatchCoordinator {
  /** Never fails: with Redis down, this replica polls for itself. */
  plan(local: Targets): Promise<PollPlan>;
  publish(result: PollResult): void;
  leave(): void;
}

/** `gap`: results may have been lost before this one (another poller, the subscriber connection dropped);
 * `bytes`: what the result weighed as received. */
export interface WatchFleet {
  join(
    credentials: Credentials,
    engineId: string,
    receive: (result: PollResult, gap: boolean, bytes: number) => void,
  ): WatchCoordinator;
}

type JobSink = ConflatingStream<CseJob | null>;
type EventSink = ConflatingStream<JobEventModel>;

interface JobTrack {
  readonly sinks: Set<JobSink>;
  /** Its subscribers not yet handed a state (new ones, or ones whose next state is read): handed the next
   * state read, changed or not. The job itself is not kept past the poll that read it (Watches.kept). */
  readonly waiting: Set<JobSink>;
  fingerprint?: string;
  stale?: boolean;
  /** When the read of the state held began. */
  startedAt?: number;
}

/** Every job of the pages polled, created and changed: a slow reader loses no job, only intermediate states. */
export function maxPendingEvents(config: GatewayConfig): number {
  return 2 * config.upstream.paging.maxPageSize * config.subscriptions.listPages;
}

/** A caller's budget and watched bound are per token: more projects or enterprise projects multiply neither. */
export class Watches implements JobWatches {
  private readonly watches = new Map<string, EngineWatch>();
  private readonly callers = new Map<string, ScopeBudget<EngineWatch>>();
  private closed = false;
  /** The jobs of each watch's last poll, for a new subscriber of one of them while fresh, weighed by the upstream
   * bytes they came in, per caller a share: however many engines a caller watches, past it a new subscriber's
   * first state is read. */
  readonly kept = new CallerShareCache<Polled>({ maxBytes: KEPT_MAX_BYTES, maxEntryBytes: SEEN_MAX_BYTES });

  constructor(
    readonly config: GatewayConfig,
    readonly http: CseHttpClient,
    readonly metrics: WatchMetrics,
    readonly fleet?: WatchFleet,
    /** A poll that failed with no code of ours: a gateway bug, told once per watch. */
    readonly onUnexpected: (error: unknown) => void = () => {},
    /** A poll's pages count among them while it reads and compares them, as an operation's answers do. */
    readonly answers?: AnswersBeingMade,
  ) {}

  jobUpdates(credentials: Credentials, engineId: string, jobId: string, address?: string): AsyncGenerator<CseJob | null> {
    const watch = this.watchOf(credentials, engineId, address, jobId);
    const stream: JobSink = new ConflatingStream(1, this.metrics.conflated, () => watch?.leave(stream, jobId));
    stream.watch = watch;
    if (watch === undefined) stream.end();
    else watch.watchJob(jobId, stream);
    return stream;
  }

  engineJobEvents(credentials: Credentials, engineId: string, address?: string): AsyncGenerator<JobEventModel> {
    const watch = this.watchOf(credentials, engineId, address);
    const max = maxPendingEvents(this.config);
    const stream = new ConflatingStream<JobEventModel>(max, this.metrics.conflated, () => watch?.leave(stream));
    stream.watch = watch;
    if (watch === undefined) stream.end();
    else watch.watchEvents(stream);
    return stream;
  }

  close(): void {
    this.closed = true;
    for (const watch of [...this.watches.values()]) watch.stop();
  }

  private watchOf(credentials: Credentials, engineId: string, address: string | undefined, jobId?: string): EngineWatch | undefined {
    if (this.closed) return undefined;
    const key = `${credentialDigest(credentials)} ${engineId}`;
    const digest = callerDigest(credentials);
    let watch = this.watches.get(key);
    let budget = this.callers.get(digest);
    const { maxWatchedPerScope: limit, maxCallsPerPoll, pollMs } = this.config.subscriptions;
    const watched = budget?.members.reduce((sum, each) => sum + each.watching, 0) ?? 0;
    if (watched >= limit && watch?.watches(jobId) !== true) {
      const message =
        `These credentials' subscriptions already watch ${limit} jobs and engines, the most allowed: ` +
        'watch the engine (engineJobEvents) rather than many of its jobs, or close a subscription.';
      throw new GatewayError(ErrorCode.TOO_MANY_WATCHED, message, { details: { limit } });
    }
    if (watch === undefined) {
      const owner = (budget ??= new ScopeBudget<EngineWatch>(maxCallsPerPoll, pollMs));
      this.callers.set(digest, owner);
      watch = new EngineWatch(credentials, engineId, address, this, owner, (idle) => {
        // Only the watch under the key: a stopped one may have been replaced already.
        if (this.watches.get(key) === idle) this.watches.delete(key);
        owner.whenEmpty(() => this.callers.get(digest) === owner && this.callers.delete(digest));
        this.metrics.pollers(this.watches.size);
      });
      this.watches.set(key, watch);
      this.metrics.pollers(this.watches.size);
    }
    return watch;
  }
}

/** The newest job-list pages, read in turn with the watched jobs when events or several jobs are watched. */
const LISTING = '\u0000listing';

/** Upstream bytes of a poll whose jobs a watch keeps until the next, for a new subscriber of one of them. */
const SEEN_MAX_BYTES = 256 * 1024;

/** What all watches keep between polls (Watches.kept): a caller a quarter once it is full. */
const KEPT_MAX_BYTES = 8 * 1024 * 1024;

/** A poll's jobs, `at` its time. */
type Polled = { readonly jobs: ReadonlyMap<string, CseJob>; readonly at: number; readonly startedAt: number | undefined };

/** Characters of fingerprints taken in one turn of the event loop: a page of many large jobs is a long walk. */
const FINGERPRINT_CHARS_PER_TURN = 128 * 1024;
/** Other replicas' results waiting to be compared; past it one is dropped as a gap. */
const MAX_WAITING_RESULTS = 4;

/** Joins within this of a poll share the next one: a stream of new subscribers cannot poll faster. */
const MIN_EARLY_SPACING_MS = 250;

/** One poller for all one credential scope watches on one engine (docs/subscriptions.md, "The economy"). */
export class EngineWatch {
  private readonly tracks = new Map<string, JobTrack>();
  private readonly eventSinks = new Set<EventSink>();
  /** The newest page's fingerprints at the last poll, and its read's start: what events compare with. */
  private newest: { fingerprints: Map<string, string>; startedAt?: number } | undefined;
  /** Its key in Watches.kept: its last poll's jobs, a new subscriber's first state while fresh. */
  private readonly seenKey: string;
  /** The latest start of a result taken in: a read begun after it is not older, whatever the clock. */
  private latestStart = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** A subscriber joined during a poll and waits for its first state. */
  private again = false;
  private lastPollStarted = Number.NEGATIVE_INFINITY;
  /** With a fleet, ticks keep the lease every interval while polls back off. */
  private pollAfter = Number.NEGATIVE_INFINITY;
  private failures = 0;
  private stopped = false;
  private toldUnexpected = false;
  /** Results are compared one after the other, each in turns. */
  private delivering: Promise<void> = Promise.resolve();
  private waitingResults = 0;
  /** A result was dropped: once those waiting are compared, each job's next state is sent. */
  private lostResult = false;
  private readonly abort = new AbortController();
  private readonly coordinator: WatchCoordinator | undefined;
  private readonly budget: ReturnType<ScopeBudget['join']>;
  private readonly settings: GatewayConfig['subscriptions'];
  /** When each job (and the listing) was last read, by poll number: the rotation's order. */
  private readonly lastPolled = new Map<string, number>();
  private polls = 0;
  /** Calls its subscriptions' events asked for since the last allocation. */
  private asked = 0;
  /** Watched jobs the last complete listing found, and the pages it read. */
  private onListing = new Set<string>();
  private listingPages: number | undefined;
  private listing = { next: 0, found: new Set<string>() };
  private targets: Targets | undefined;
  private role: 'local' | 'poller' | 'listener' | undefined;

  constructor(
    readonly credentials: Credentials,
    readonly engineId: string,
    /**
     * The client address of the subscriber that started the watch: its polls count there in the strangers'
     * share while the scope is a stranger's (the limiter reads no address of an accepted scope's calls). Every
     * subscriber of a watch holds its one token, so whichever of them polls, the polls are that token's; the
     * starter's address is where they began, as a single flight's joiners wait on its first caller's call. A
     * watch that outlives its starter keeps it: a client puts polls only at an address it subscribed from.
     */
    readonly address: string | undefined,
    private readonly options: Watches,
    scope: ScopeBudget<EngineWatch>,
    private readonly onIdle: (watch: EngineWatch) => void,
  ) {
    this.settings = options.config.subscriptions;
    this.seenKey = `${credentialDigest(credentials)} ${engineId}`;
    this.budget = scope.join(this);
    this.coordinator = options.fleet?.join(credentials, engineId, (result, gap, bytes) => this.receive(result, gap, bytes));
  }

  get watching(): number {
    return this.tracks.size + (this.eventSinks.size > 0 ? 1 : 0);
  }

  watches(jobId?: string): boolean {
    return jobId === undefined ? this.eventSinks.size > 0 : this.tracks.has(jobId);
  }

  watchJob(jobId: string, sink: JobSink): void {
    let track = this.tracks.get(jobId);
    if (track === undefined) this.tracks.set(jobId, (track = { sinks: new Set(), waiting: new Set() }));
    track.sinks.add(sink);
    track.waiting.add(sink);
    if (!this.replayable()) return this.reread(sink);
    const seen = this.options.kept.get(this.seenKey);
    const job = seen?.jobs.get(jobId);
    if (job === undefined || performance.now() - seen!.at >= this.settings.pollMs) return this.soon();
    this.update(jobId, job, seen!.at, seen!.startedAt);
  }

  /** A stored state may go to a new subscriber while stored answers may serve the scope (the caches' rule). */
  replayable(): boolean {
    return this.options.http.cacheGenerationFor(this.credentials) !== undefined;
  }

  /** The sink's next state is read, not stored: a listener reads jobs with none (a known 401: no call). */
  reread(sink: object): void {
    this.gap();
    for (const track of this.tracks.values()) if (track.sinks.has(sink as JobSink)) track.waiting.add(sink as JobSink);
    this.soon();
  }

  /** An event's upstream call past the caches, from its polls' budget; granted, it adds to its demand. */
  readonly chargeCall = (): void => {
    if (!this.budget.take()) {
      const limit = this.settings.maxCallsPerPoll;
      const message = `These credentials' subscriptions made the ${limit} upstream calls an interval allows.`;
      const options = { details: { reason: 'CALLS_PER_POLL', limit } };
      throw new GatewayError(ErrorCode.QUERY_TOO_COMPLEX, message, options);
    }
    this.asked += 1;
  };

  watchEvents(sink: EventSink): void {
    // The first poll sets what later ones compare with: a baseline kept from earlier events subscribers
    // (the watch lived on for its jobs) would tell the newcomer of changes before it subscribed.
    if (this.eventSinks.size === 0) this.newest = undefined;
    this.eventSinks.add(sink);
    if (this.newest === undefined) this.soon();
  }

  leave(sink: JobSink | EventSink, jobId?: string): void {
    if (jobId === undefined) this.eventSinks.delete(sink as EventSink);
    const track = jobId === undefined ? undefined : this.tracks.get(jobId);
    track?.sinks.delete(sink as JobSink);
    track?.waiting.delete(sink as JobSink);
    if (track?.sinks.size === 0) this.tracks.delete(jobId!);
    if (this.tracks.size === 0 && this.eventSinks.size === 0) this.stop();
  }

  /** With a refusal, subscribers still attached fail with it. */
  stop(refusal?: GatewayError): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    this.options.kept.delete(this.seenKey);
    const jobSinks = [...this.tracks.values()].flatMap((track) => [...track.sinks]);
    for (const sink of [...jobSinks, ...this.eventSinks]) {
      if (refusal === undefined) sink.end();
      else sink.fail(refusal);
    }
    this.coordinator?.leave();
    this.budget.leave();
    this.onIdle(this);
  }

  private receive(result: PollResult, gap: boolean, bytes: number): void {
    if (this.stopped) return;
    if (gap) this.gap();
    // The fleet's poller reached the upstream: a first state may again be read locally (see plan), and this
    // replica, should it poll again, backs off no longer.
    if (!result.failed) {
      this.failures = 0;
      this.pollAfter = Math.min(this.pollAfter, this.lastPollStarted + this.settings.pollMs);
    }
    if (this.waitingResults >= MAX_WAITING_RESULTS) {
      this.lostResult = true;
      return;
    }
    this.deliver(result, performance.now(), bytes).catch((error: unknown) => this.unexpected(error));
  }

  private soon(): void {
    if (this.stopped) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    const spacing = Math.min(MIN_EARLY_SPACING_MS, this.settings.pollMs);
    this.schedule(Math.max(0, this.lastPollStarted + spacing - performance.now()));
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delayMs).unref();
  }

  private async poll(): Promise<void> {
    if (this.stopped || this.polling) return;
    this.polling = true;
    this.again = false;
    this.lastPollStarted = performance.now();
    const plan = await this.plan();
    if (plan !== undefined) await this.read(plan);
    this.polling = false;
    if (this.stopped) return;
    // A poller asked early (a new subscriber) keeps the time its next poll was due.
    const due = this.pollAfter - performance.now();
    if (plan === undefined) this.schedule(due > 0 ? Math.min(due, this.settings.pollMs) : this.settings.pollMs);
    else if (this.again && this.failures === 0) this.soon();
    else if (this.coordinator === undefined) this.schedule(this.nextDelay());
    else {
      this.pollAfter = this.lastPollStarted + this.nextDelay();
      this.schedule(this.settings.pollMs);
    }
  }

  private async plan(): Promise<Poll | undefined> {
    const local = { jobIds: [...this.tracks.keys()], events: this.eventSinks.size > 0 };
    const plan: PollPlan = (await this.coordinator?.plan(local)) ?? { ...local, role: 'poll', publish: false };
    const role = plan.role === 'listen' ? 'listener' : plan.publish ? 'poller' : 'local';
    if (this.role !== undefined && role !== this.role) this.gap();
    this.role = role;
    if (plan.role === 'poll') return performance.now() < this.pollAfter ? undefined : plan;
    // Another replica polls; a subscriber waiting for a first state gets it from one read here.
    const waiting = [...this.tracks].filter(([, track]) => track.waiting.size > 0).map(([id]) => id);
    if (this.stopped || waiting.length === 0 || this.failures > 0) return undefined;
    return { role: 'poll', jobIds: waiting, events: false, publish: false };
  }

  /** Never throws. */
  private async read(plan: Poll): Promise<void> {
    let calls = 0;
    const { requestConcurrency, pageBase, timeFormat } = this.options.config.upstream;
    const limiter = new InFlightLimiter({ inFlight: requestConcurrency, queue: Infinity });
    const startedAt = Math.max(Date.now(), this.latestStart);
    const { operationTimeoutMs } = this.options.config.limits;
    const deadline = deadlineIn(operationTimeoutMs);
    // Ends with the watch, or at the deadline, as an operation's: a wait for a slot or room too.
    const signal = new PlainAbort();
    const stopped = () => signal.abort(this.abort.signal.reason);
    this.abort.signal.addEventListener('abort', stopped, { once: true });
    const timer = setTimeout(() => signal.abort(timeoutReason()), operationTimeoutMs).unref();
    // A poll is for news: it reads past the upstream cache (and refills it).
    const request = { credentials: this.credentials, address: this.address, signal, deadline, fresh: true, refusal: {} };
    const limit = <T>(fn: () => Promise<T>): Promise<T> => {
      calls += 1;
      return limiter.run(fn);
    };
    // Its calls are bounded by the scope's budget and its pages: not by what one operation may fetch.
    const caller = callerDigest(this.credentials);
    const share = this.options.answers?.answerOf(caller, () => this.options.http.isStranger(this.credentials), this.address);
    const limits = { ...this.options.config.limits.budget, maxUpstreamBytes: Number.POSITIVE_INFINITY };
    const budget = new OperationBudget(limits, caller, share, { signal, deadline });
    const api = new CseApi({ http: this.options.http, request, limit, pageBase, timeFormat, budget });
    // A call that failed waiting for the gateway's room failed for want of room; any other, upstream.
    let upstreamFailed = false;
    const fell = (error: unknown) => {
      if (!budget.failedWaiting(error)) upstreamFailed = true;
    };
    try {
      const polled = await this.pollOnce(api, plan, fell);
      const result = polled === undefined ? undefined : { ...polled, startedAt };
      const failed = result?.failed === true;
      if (result !== undefined && !this.stopped) {
        // Before its comparison, which may end the watch (a terminal state): the fleet's listeners want it too.
        // Nothing read (the budget spent): nothing to tell the fleet.
        const empty = result.jobs.length + result.missing.length === 0 && result.newest === undefined;
        if (plan.publish && !(empty && !failed)) this.coordinator?.publish(result);
        await this.deliver(result, performance.now(), budget.fetchedBytes);
      }
      if (failed) this.failed(upstreamFailed);
      else this.failures = 0;
      this.options.metrics.poll(failed ? 'failed' : 'ok', calls);
    } catch (error) {
      if (this.stopped) return;
      const refused = endsSubscriptions(error);
      this.options.metrics.poll(refused ? 'refused' : 'failed', calls);
      if (refused) return this.stop(error);
      this.unexpected(error);
      fell(error);
      this.failed(upstreamFailed);
    } finally {
      clearTimeout(timer);
      this.abort.signal.removeEventListener('abort', stopped);
      budget.end();
    }
  }

  /** A poll fell short: the upstream's failure backs the watch off; time spent waiting for the gateway's room
   * (others' answers being made) says nothing of the upstream. */
  private failed(upstreamFailed: boolean): void {
    if (upstreamFailed) this.failures += 1;
    this.gap();
  }

  /** A failure with no code of ours is a gateway bug: told once per watch. */
  private unexpected(error: unknown): void {
    if (error instanceof GatewayError || this.toldUnexpected) return;
    this.toldUnexpected = true;
    this.options.onUnexpected(error);
  }

  /** Each call from the scope's budget: the listing and the jobs off it take turns, least recent first; each
   * call's failure is told to `fell`. */
  private async pollOnce(api: CseApi, plan: Poll, fell: (error: unknown) => void): Promise<PollResult | undefined> {
    const { jobIds: watched, events: wantsEvents } = plan;
    this.targets = plan;
    if (watched.length === 0 && !wantsEvents) return undefined;
    const poll = (this.polls += 1);
    const targets = new Set(watched);
    for (const id of this.lastPolled.keys()) {
      if (id !== LISTING && !targets.has(id)) this.lastPolled.delete(id);
    }
    const found = new Map<string, CseJob>();
    let newest: string[] | undefined;
    const offListing = watched.filter((id) => !this.onListing.has(id));
    const candidates = wantsEvents || watched.length > 1 ? [LISTING, ...offListing] : [...watched];
    const details: string[] = [];
    let failed = false;
    let listingFailed = false;
    for (const item of dueFirst(candidates, (each) => this.lastPolled.get(each))) {
      if (item !== LISTING) {
        if (found.has(item)) continue;
        if (!this.budget.take()) break;
        details.push(item);
        continue;
      }
      // A listing cut short by the budget goes on from the page it reached at its next turn.
      let index = this.listing.next;
      const size = this.options.config.upstream.paging.maxPageSize;
      let complete = false;
      let listed = true;
      for (; index < this.settings.listPages && !complete; index += 1) {
        if (!this.budget.take()) break;
        const page = await api.listJobs(this.engineId, { from: undefined, to: undefined }, { index, size }).catch((error: unknown) => {
          if (endsSubscriptions(error)) throw error;
          fell(error);
          listed = false;
          return false as const;
        });
        if (page === false) break;
        if (page === null) return { jobs: [], newest: undefined, missing: [], engineMissing: true, failed };
        if (index === 0 && wantsEvents) newest = page.data.map((job) => String(job.id));
        for (const job of page.data) {
          found.set(String(job.id), job);
          if (targets.has(String(job.id))) this.listing.found.add(String(job.id));
        }
        const last = page.data.length < size || (index + 1) * size >= page.total;
        complete = last || watched.every((id) => this.listing.found.has(id));
      }
      if (!listed) {
        // A listing that fails (a page larger than the gateway reads, say) takes its turn as a job does: the
        // watched jobs are read on their own meanwhile (from the next poll on, those it found last time
        // too). The poll failed only if it read nothing else: the upstream answers the jobs.
        listingFailed = true;
        this.lastPolled.set(LISTING, poll);
        this.onListing = new Set();
        continue;
      }
      if (!complete && index < this.settings.listPages) {
        this.listing.next = index;
        break;
      }
      this.lastPolled.set(LISTING, poll);
      this.listingPages = index;
      this.onListing = this.listing.found;
      this.listing = { next: 0, found: new Set() };
    }
    for (const id of [...found.keys(), ...details]) this.lastPolled.set(id, poll);
    failed ||= listingFailed && details.length === 0;
    const read = await Promise.allSettled(details.map((id) => api.getJob(this.engineId, id)));
    const missing: string[] = [];
    read.forEach((result, i) => {
      if (result.status === 'rejected') {
        if (endsSubscriptions(result.reason)) throw result.reason;
        fell(result.reason);
        failed = true;
      } else if (result.value === null) missing.push(details[i]!);
      else found.set(details[i]!, result.value);
    });
    return { jobs: [...found.values()], newest, missing, engineMissing: false, failed };
  }

  /** Its weight in the scope's budget: its events' calls since it was last asked, and one poll's. */
  demand(): number {
    const asked = this.asked;
    this.asked = 0;
    return asked + this.pollDemand();
  }

  private pollDemand(): number {
    if (this.role === 'listener') return [...this.tracks.values()].filter((track) => track.waiting.size > 0).length;
    const own = { jobIds: [...this.tracks.keys()], events: this.eventSinks.size > 0 };
    const { jobIds, events } = this.role === 'poller' ? (this.targets ?? own) : own;
    if (!events && jobIds.length <= 1) return jobIds.length;
    const offListing = jobIds.filter((id) => !this.onListing.has(id));
    return (this.listingPages ?? this.settings.listPages) + offListing.length;
  }

  /** What subscribers were sent may lag: each job's next state is sent even if unchanged. */
  private gap(): void {
    for (const track of this.tracks.values()) track.stale = true;
  }

  /** After the results before it; rejects as its comparison did. `bytes`: what the result weighed, its jobs
   * kept until the next poll (for a new subscriber of one of them) if they fit (Watches.kept). */
  private deliver(result: PollResult, at: number, bytes: number): Promise<void> {
    this.waitingResults += 1;
    const turn = this.delivering.then(async () => {
      this.waitingResults -= 1;
      const fingerprints = await this.fingerprints(result);
      if (!this.stopped) this.compare(result, at, fingerprints, bytes);
      if (this.waitingResults === 0 && this.lostResult) {
        this.lostResult = false;
        this.gap();
      }
    });
    this.delivering = turn.catch(() => undefined);
    return turn;
  }

  /** What {@link compare} compares, in turns: the jobs watched, and the newest page's if events are. */
  private async fingerprints(result: PollResult): Promise<Fingerprints> {
    const events = this.eventSinks.size > 0 && result.newest !== undefined;
    const newest = new Set(events ? result.newest : undefined);
    const turns = new TurnMeter(FINGERPRINT_CHARS_PER_TURN, callerDigest(this.credentials));
    const fingerprints = new Map<CseJob, string>();
    for (const job of result.jobs) {
      const id = String(job.id);
      if (!this.tracks.has(id) && !newest.has(id)) continue;
      const fingerprint = this.fingerprintText(job);
      fingerprints.set(job, fingerprintDigest(fingerprint));
      await turns.due(fingerprint.length);
    }
    return { byJob: fingerprints, events };
  }

  private fingerprintOf(job: CseJob): string {
    return fingerprintDigest(this.fingerprintText(job));
  }

  private fingerprintText(job: CseJob): string {
    return jobFingerprint(job, this.options.config.limits.budget.maxListItems);
  }

  private compare(result: PollResult, at: number, fingerprints: Fingerprints, bytes: number): void {
    // A result read before another taken in (a late one) is not kept for a new subscriber: it is not the newest.
    const newest = !readBefore(result.startedAt, this.latestStart);
    this.latestStart = Math.max(this.latestStart, result.startedAt ?? Number.NEGATIVE_INFINITY);
    if (newest) this.options.kept.delete(this.seenKey);
    if (result.engineMissing) {
      for (const id of [...this.tracks.keys()]) this.missingJob(id, result.startedAt);
      // A read begun before the newest page compared says nothing of the engine now.
      if (readBefore(result.startedAt, this.newest?.startedAt)) return;
      const message = 'The engine does not exist (or is not visible to the caller).';
      const error = new GatewayError(ErrorCode.NOT_FOUND, message, { details: { engineId: this.engineId } });
      for (const sink of [...this.eventSinks]) sink.fail(error);
      return;
    }
    for (const id of result.missing) this.missingJob(id, result.startedAt);
    const found = new Map(result.jobs.map((job) => [String(job.id), job]));
    // What was kept before is not (above), whether or not this fits.
    if (newest) {
      const polled = { jobs: found, at, startedAt: result.startedAt };
      this.options.kept.set(this.seenKey, polled, { ttlMs: this.settings.pollMs, bytes, caller: callerDigest(this.credentials) });
    }
    for (const id of [...this.tracks.keys()]) {
      const job = found.get(id);
      if (job !== undefined) this.update(id, job, at, result.startedAt, fingerprints.byJob.get(job));
    }
    // Events that began during the turns wait for the next poll: the page's fingerprints were not taken.
    if (result.newest !== undefined && this.eventSinks.size > 0 && fingerprints.events) {
      const page = result.newest.map((id) => found.get(id)).filter((job): job is CseJob => job !== undefined);
      this.compareNewest(page, at, result.startedAt, fingerprints.byJob);
    }
  }

  private update(jobId: string, job: CseJob, polledAt: number, startedAt: number | undefined, known?: string): void {
    const track = this.tracks.get(jobId);
    if (track === undefined) return;
    // This replica's late poll, or another's result, may hold an older state than the one sent.
    if (readBefore(startedAt, track.startedAt)) return;
    track.startedAt = startedAt ?? track.startedAt;
    const fingerprint = known ?? this.fingerprintOf(job);
    const changed = fingerprint !== track.fingerprint || track.stale === true;
    if (changed || track.waiting.size > 0) {
      track.stale = false;
      track.fingerprint = fingerprint;
      markPolled(job, polledAt);
      for (const sink of [...(changed ? track.sinks : track.waiting)]) sink.push(JOB_KEY, job);
      track.waiting.clear();
    }
    if (isTerminalJob(job)) {
      this.tracks.delete(jobId);
      for (const sink of [...track.sinks]) sink.end();
    }
  }

  private missingJob(jobId: string, startedAt: number | undefined): void {
    const track = this.tracks.get(jobId);
    if (readBefore(startedAt, track?.startedAt)) return;
    this.tracks.delete(jobId);
    for (const sink of [...(track?.sinks ?? [])]) {
      sink.push(JOB_KEY, null);
      sink.end();
    }
  }

  private compareNewest(page: readonly CseJob[], polledAt: number, startedAt: number | undefined, fingerprints: ReadonlyMap<CseJob, string>): void {
    const before = this.newest;
    if (readBefore(startedAt, before?.startedAt)) return;
    const now = new Map<string, string>();
    for (const job of page) {
      const id = String(job.id);
      // Not the job's track's: it may hold a state read after this page.
      const fingerprint = fingerprints.get(job) ?? this.fingerprintOf(job);
      now.set(id, fingerprint);
      const previous = before?.fingerprints.get(id);
      if (before === undefined || previous === fingerprint) continue;
      const event: JobEventModel = { kind: previous === undefined ? 'CREATED' : 'CHANGED', job };
      markPolled(event, polledAt);
      for (const sink of [...this.eventSinks]) sink.push(eventKey(event), event);
    }
    this.newest = { fingerprints: now, startedAt: startedAt ?? before?.startedAt };
  }

  private nextDelay(): number {
    if (this.failures === 0) return this.settings.pollMs;
    return Math.min(this.settings.maxBackoffMs, this.settings.pollMs * 2 ** Math.min(this.failures, 20));
  }
}

/** Whether a read began before the held state's; one of unknown start (an older replica's) did not. */
function readBefore(startedAt: number | undefined, held: number | undefined): boolean {
  return startedAt !== undefined && held !== undefined && startedAt < held;
}

/** A refusal of the caller (401, 403) ends every subscription of the watch with it. */
function endsSubscriptions(error: unknown): error is GatewayError {
  const code = error instanceof GatewayError ? error.code : undefined;
  return code === ErrorCode.UNAUTHENTICATED || code === ErrorCode.FORBIDDEN;
}
