import { ErrorCode } from '../../src/errors/codes';
import { GatewayError } from '../../src/errors/GatewayError';
import type { PollPlan, PollResult, WatchFleet } from '../../src/subscriptions/EngineWatch';
import { loadConfig } from '../../src/config/loadConfig';
import { Watches, type WatchMetrics } from '../../src/subscriptions/EngineWatch';
import { AnswersBeingMade } from '../../src/graphql/execution/answersBeingMade';
import { credentialDigest } from '../../src/cache/scopeKey';
import type { CseHttpClient } from '../../src/upstream/CseHttpClient';
import type { UpstreamAnswer } from '../../src/upstream/stages/types';
import type { Credentials } from '../../src/upstream/credentials';
import type { CseJob } from '../../src/upstream/types';
import * as fingerprints from '../../src/subscriptions/jobFingerprint';

type FakeCall = { readonly route: string; readonly path: string; readonly engineId?: string };

/** Watches with `env` over an upstream that answers each call with `get`; the scope accepted and answered
 * recently (stored states may be handed on). */
function watchesOver(get: (call: FakeCall) => Promise<UpstreamAnswer>, env: Record<string, string>, more: { fleet?: WatchFleet; answers?: AnswersBeingMade } = {}): Watches {
  const http = { cacheGenerationFor: () => 1, isStranger: () => false, get } as unknown as CseHttpClient;
  return new Watches(loadConfig(env), http, { poll() {}, pollers() {}, conflated() {} }, more.fleet, undefined, more.answers);
}

/** The job id a details call's path names. */
const jobIdOf = (call: FakeCall): number => Number(/jobs\/(\d+)/.exec(call.path)![1]);

const POLL_MS = 1000;
const credentials = { token: 't', projectId: 'p' } as unknown as Credentials;
// Time is the subject of every test here but the first, which sets none.
beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('Watches', () => {
  it('once closed, ends new subscriptions at once without making a watch (nothing polls, no poller counted)', async () => {
    const pollers = jest.fn();
    // Nothing but the sinks: a watch made now would reach for the rest and throw.
    const live = new Watches(loadConfig({}), {} as CseHttpClient, { pollers } as unknown as WatchMetrics);
    live.close();
    const credentials = { token: 't' } as unknown as Credentials;
    expect((await live.jobUpdates(credentials, 'e', '1').next()).done).toBe(true);
    expect((await live.engineJobEvents(credentials, 'e').next()).done).toBe(true);
    expect(pollers).not.toHaveBeenCalled();
  });
});

describe('after a gap, each job is sent again as it is now', () => {

  /** A job's states as the upstream answers them, one per details call; an Error fails that call. */
  function upstream(answers: Array<{ status: string } | Error>) {
    let call = 0;
    return {
      // The scope answered recently: stored states may be handed on.
      cacheGenerationFor: () => 1,
      get: async (): Promise<UpstreamAnswer> => {
        const answer = answers[Math.min(call, answers.length - 1)]!;
        call += 1;
        if (answer instanceof Error) throw answer;
        return { kind: 'ok', body: { id: 7, ...answer }, requestId: undefined, bytes: 0 };
      },
    } as unknown as CseHttpClient;
  }

  function watches(http: CseHttpClient, fleet?: WatchFleet): Watches {
    const config = loadConfig({
      CSE_PAGE_BASE: '0',
      CSE_MAX_PAGE_SIZE: '100',
      SUBSCRIPTION_LIST_PAGES: '2',
      SUBSCRIPTION_POLL_MS: String(POLL_MS),
      SUBSCRIPTION_MAX_BACKOFF_MS: String(POLL_MS),
      REQUEST_TIMEOUT_MS: String(POLL_MS),
      CSE_REQUEST_CONCURRENCY: '1',
      SUBSCRIPTION_MAX_CALLS_PER_POLL: '10',
      SUBSCRIPTION_MAX_WATCHED_PER_SCOPE: '10',
    });
    return new Watches(config, http, { poll() {}, pollers() {}, conflated() {} }, fleet);
  }

  /** Every status the stream yields, as it yields them. */
  function statuses(stream: AsyncGenerator<CseJob | null, undefined>): string[] {
    const seen: string[] = [];
    void (async () => {
      for await (const job of stream) seen.push(String(job?.status));
    })();
    return seen;
  }

  it('a failed poll: the state after it is sent even though it did not change', async () => {
    const unavailable = new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'down');
    const live = watches(upstream([{ status: 'Executing' }, unavailable, { status: 'Executing' }]));
    const seen = statuses(live.jobUpdates(credentials, 'e', '7'));
    await jest.advanceTimersByTimeAsync(3.5 * POLL_MS);
    live.close();
    expect(seen).toEqual(['Executing', 'Executing']);
  });

  it('no gap: an unchanged state is not sent again', async () => {
    const live = watches(upstream([{ status: 'Executing' }]));
    const seen = statuses(live.jobUpdates(credentials, 'e', '7'));
    await jest.advanceTimersByTimeAsync(3.5 * POLL_MS);
    live.close();
    expect(seen).toEqual(['Executing']);
  });

  it('with a fleet: a result after another poller, or after this replica stopped listening, is sent even if unchanged', async () => {
    let receive: ((result: PollResult, gap: boolean, bytes: number) => void) | undefined;
    const plans: PollPlan[] = [{ role: 'poll', jobIds: ['7'], events: false, publish: true }];
    const fleet: WatchFleet = {
      join: (_credentials, _engineId, onResult) => {
        receive = onResult;
        return { plan: async () => plans.shift() ?? { role: 'listen' }, publish: () => undefined, leave: () => undefined };
      },
    };
    const live = watches(upstream([{ status: 'Executing' }]), fleet);
    const seen = statuses(live.jobUpdates(credentials, 'e', '7'));
    await jest.advanceTimersByTimeAsync(0.5 * POLL_MS);
    expect(seen).toEqual(['Executing']);
    const result: PollResult = { jobs: [{ id: 7, status: 'Executing' } as unknown as CseJob], newest: undefined, missing: [], engineMissing: false, failed: false };
    // The next tick listens: this replica's role changed, a gap.
    await jest.advanceTimersByTimeAsync(POLL_MS);
    receive!(result, false, 100);
    await jest.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['Executing', 'Executing']);
    // The same poller again: nothing new.
    receive!(result, false, 100);
    await jest.advanceTimersByTimeAsync(0);
    expect(seen).toHaveLength(2);
    // Another poller (or the subscriber connection back): a gap.
    receive!(result, true, 100);
    await jest.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['Executing', 'Executing', 'Executing']);
    live.close();
  });
});

describe("the fleet's results", () => {

  function watchesWith(status: string, fleet: WatchFleet): Watches {
    const env = { SUBSCRIPTION_POLL_MS: String(POLL_MS), SUBSCRIPTION_MAX_BACKOFF_MS: String(POLL_MS), REQUEST_TIMEOUT_MS: String(POLL_MS) };
    return watchesOver(async () => ({ kind: 'ok', body: { id: 7, status }, requestId: undefined, bytes: 0 }), env, { fleet });
  }

  /** A fleet in which another replica polls: `receive` hands the watch that replica's results. */
  function listening() {
    let onResult: ((result: PollResult, gap: boolean, bytes: number) => void) | undefined;
    const fleet: WatchFleet = {
      join: (_credentials, _engineId, receive) => {
        onResult = receive;
        return { plan: async () => ({ role: 'listen' }), publish: () => undefined, leave: () => undefined };
      },
    };
    return { fleet, receive: (result: PollResult, gap: boolean, bytes = 100) => onResult!(result, gap, bytes) };
  }

  it("a poller publishes a terminal state before the watch it ends leaves the fleet (a later watch's lease is not touched)", async () => {
    const calls: string[] = [];
    const fleet: WatchFleet = {
      join: () => ({
        plan: async () => ({ role: 'poll', jobIds: ['7'], events: false, publish: true }),
        publish: () => calls.push('publish'),
        leave: () => calls.push('leave'),
      }),
    };
    const live = watchesWith('Finished', fleet);
    const seen: unknown[] = [];
    void (async () => {
      for await (const job of live.jobUpdates(credentials, 'e', '7')) seen.push(job?.status);
    })();
    await jest.advanceTimersByTimeAsync(0.5 * POLL_MS);
    expect(seen).toEqual(['Finished']);
    expect(calls).toEqual(['publish', 'leave']);
    live.close();
  });

  it('waiting to be compared, at most four: past them a result is dropped as a gap, and the next is sent even if unchanged', async () => {
    const { fleet, receive } = listening();
    const live = watchesWith('Executing', fleet);
    const seen: string[] = [];
    void (async () => {
      for await (const job of live.jobUpdates(credentials, 'e', '7')) seen.push(String(job?.description));
    })();
    await jest.advanceTimersByTimeAsync(0.5 * POLL_MS);
    const result = (description: string): PollResult => ({ jobs: [{ id: 7, status: 'Executing', description } as unknown as CseJob], newest: undefined, missing: [], engineMissing: false, failed: false });
    // Ten at once, from one poller: four wait, six are dropped.
    for (const description of ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J']) receive(result(description), false);
    await jest.advanceTimersByTimeAsync(0);
    expect(seen.slice(-4)).toEqual(['A', 'B', 'C', 'D']);
    const before = seen.length;
    receive(result('D'), false);
    await jest.advanceTimersByTimeAsync(0);
    expect(seen.slice(before)).toEqual(['D']);
    live.close();
  });

  it("polls at its due time though a new subscriber asked early: a poller's early ask before then does not put its next poll off", async () => {
    const reads: string[] = [];
    const get = async (call: FakeCall): Promise<UpstreamAnswer> => {
      reads.push(String(jobIdOf(call)));
      return { kind: 'ok', body: { id: jobIdOf(call), status: 'Executing' }, requestId: undefined, bytes: 100 };
    };
    const fleet: WatchFleet = {
      join: () => ({ plan: async (local) => ({ ...local, role: 'poll', publish: true }), publish: () => undefined, leave: () => undefined }),
    };
    const env = { SUBSCRIPTION_POLL_MS: String(POLL_MS), SUBSCRIPTION_MAX_BACKOFF_MS: String(POLL_MS), REQUEST_TIMEOUT_MS: String(POLL_MS) };
    const live = watchesOver(get, env, { fleet });
    void live.jobUpdates(credentials, 'e', '7').next();
    await jest.advanceTimersByTimeAsync(0.6 * POLL_MS);
    expect(reads).toEqual(['7']);
    // Another job's subscriber asks for a poll before the next is due: none is made then, nor put off.
    void live.jobUpdates(credentials, 'e', '8').next();
    await jest.advanceTimersByTimeAsync(0.3 * POLL_MS);
    expect(reads).toEqual(['7']);
    await jest.advanceTimersByTimeAsync(0.3 * POLL_MS);
    expect(reads.slice(1).sort()).toEqual(['7', '8']);
    live.close();
  });

  it("backs off no longer once another replica's poll reached the upstream: polling again, it polls at its interval", async () => {
    let receive: ((result: PollResult, gap: boolean, bytes: number) => void) | undefined;
    const reads = { count: 0 };
    const get = async (): Promise<UpstreamAnswer> => {
      reads.count += 1;
      throw new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'The upstream is unavailable.', { upstream: { status: 503 } });
    };
    const fleet: WatchFleet = {
      join: (_credentials, _engineId, onResult) => {
        receive = onResult;
        return { plan: async (local) => ({ ...local, role: 'poll', publish: true }), publish: () => undefined, leave: () => undefined };
      },
    };
    const env = { SUBSCRIPTION_POLL_MS: String(POLL_MS), SUBSCRIPTION_MAX_BACKOFF_MS: '60000', REQUEST_TIMEOUT_MS: String(POLL_MS) };
    const live = watchesOver(get, env, { fleet });
    void live.jobUpdates(credentials, 'e', '7').next();
    // Polls at 0 and 2 s fail: the next would wait until 6 s.
    await jest.advanceTimersByTimeAsync(2.5 * POLL_MS);
    expect(reads.count).toBe(2);
    receive!({ jobs: [{ id: 7, status: 'Executing' } as unknown as CseJob], newest: undefined, missing: [], engineMissing: false, failed: false, startedAt: Date.now() }, true, 100);
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(reads.count).toBe(3);
    live.close();
  });

  /** A listener whose reads answer job 7 as 'read' (counted); `result` is another replica's result of job 7. */
  function lateResults() {
    const { fleet, receive } = listening();
    const reads = { count: 0 };
    const get = async (): Promise<UpstreamAnswer> => {
      reads.count += 1;
      return { kind: 'ok', body: { id: 7, status: 'Executing', description: 'read' }, requestId: undefined, bytes: 100 };
    };
    const env = { SUBSCRIPTION_POLL_MS: String(POLL_MS), SUBSCRIPTION_MAX_BACKOFF_MS: String(POLL_MS), REQUEST_TIMEOUT_MS: String(POLL_MS) };
    const live = watchesOver(get, env, { fleet });
    /** Each description a new subscriber of `id` is sent, as it is sent. */
    const descriptions = (id: string): string[] => {
      const seen: string[] = [];
      void (async () => {
        for await (const job of live.jobUpdates(credentials, 'e', id)) seen.push(String(job?.description));
      })();
      return seen;
    };
    const result = (description: string, startedAt: number): PollResult => ({ jobs: [{ id: 7, status: 'Executing', description } as unknown as CseJob], newest: undefined, missing: [], engineMissing: false, failed: false, startedAt });
    return { live, receive, reads, descriptions, result };
  }

  it("keeps the newest poll, not a late one read before it: a new subscriber is handed the state its job's subscribers were sent, with no read", async () => {
    const { live, receive, reads, descriptions, result } = lateResults();
    const first = descriptions('7');
    await jest.advanceTimersByTimeAsync(0.5 * POLL_MS);
    // Another replica's result, then a late one read before it: the watch keeps the newer.
    receive(result('newer', Date.now()), false);
    receive(result('older', Date.now() - 100), false);
    await jest.advanceTimersByTimeAsync(0);
    expect(first).toEqual(['read', 'newer']);
    const before = reads.count;
    const second = descriptions('7');
    await jest.advanceTimersByTimeAsync(0.3 * POLL_MS);
    // Not the older state, and not an interval later: the newer, kept.
    expect([second, reads.count - before]).toEqual([['newer'], 0]);
    live.close();
  });

  it("keeps no late result for a new subscriber when the newest did not fit what watches keep: it reads the job's state at once", async () => {
    const { live, receive, reads, descriptions, result } = lateResults();
    const first = descriptions('7');
    await jest.advanceTimersByTimeAsync(0.5 * POLL_MS);
    const newer = Date.now();
    receive(result('newer', newer), false, 64 * 1024 * 1024);
    await jest.advanceTimersByTimeAsync(0);
    receive(result('older', newer - 100), false);
    await jest.advanceTimersByTimeAsync(0);
    expect(first.slice(0, 2)).toEqual(['read', 'newer']);
    const before = reads.count;
    const second = descriptions('7');
    await jest.advanceTimersByTimeAsync(0.3 * POLL_MS);
    expect([second, reads.count - before]).toEqual([['read'], 1]);
    live.close();
  });

  it("an events subscriber that joins while a result's fingerprints are taken waits for the next poll (no page fingerprinted in one step)", async () => {
    const { fleet, receive } = listening();
    const live = watchesWith('Executing', fleet);
    // Ten watched jobs of 300 tasks: their fingerprints take two turns. Ten more on the newest page only.
    const job = (id: number): CseJob => ({ id, status: 'Executing', tasks: Array.from({ length: 300 }, (_, i) => ({ id: `${id}-${i}`, taskOrder: i })) }) as unknown as CseJob;
    const watched = Array.from({ length: 10 }, (_, i) => i + 1);
    const page = [...watched, ...watched.map((id) => id + 100)].map(job);
    for (const id of watched) void live.jobUpdates(credentials, 'e', String(id)).next();
    await jest.advanceTimersByTimeAsync(0.5 * POLL_MS);
    const taken = jest.spyOn(fingerprints, 'jobFingerprint');
    try {
      receive({ jobs: page, newest: page.map((each) => String(each.id)), missing: [], engineMissing: false, failed: false }, false);
      for (let i = 0; i < 5; i += 1) await Promise.resolve();
      expect(taken.mock.calls.length).toBeGreaterThan(0);
      expect(taken.mock.calls.length).toBeLessThan(watched.length);
      void live.engineJobEvents(credentials, 'e').next();
      await jest.advanceTimersByTimeAsync(0);
      expect(taken.mock.calls.length).toBe(watched.length);
    } finally {
      taken.mockRestore();
      live.close();
      // The turns it still waits for are the process's (upstream/turns.ts): none may be left to fake timers.
      await jest.runAllTimersAsync();
    }
  });
});

describe("what a watch keeps of a poll's jobs", () => {

  /** An engine whose newest page lists jobs 7 and 8, its answers weighing `bytes`; its calls counted. */
  function engine(bytes: number) {
    const calls = { count: 0 };
    const job = (id: number) => ({ id, engineId: 'e', status: 'Executing' });
    const get = async (call: FakeCall): Promise<UpstreamAnswer> => {
      calls.count += 1;
      if (call.route === 'listJobs') return { kind: 'ok', body: { total: 2, data: [job(8), job(7)] }, requestId: undefined, bytes };
      return { kind: 'ok', body: job(8), requestId: undefined, bytes };
    };
    return { calls, watches: watchesOver(get, { CSE_PAGE_BASE: '0', SUBSCRIPTION_POLL_MS: String(POLL_MS), REQUEST_TIMEOUT_MS: String(POLL_MS) }) };
  }

  it('hands a new subscriber a listed job from a small poll, and asks again after a large one: a watch keeps no large pages between polls', async () => {
    for (const [bytes, more] of [[1000, 0], [4 * 1024 * 1024, 1]] as const) {
      const { calls, watches } = engine(bytes);
      const events = watches.engineJobEvents(credentials, 'e');
      void events.next();
      await jest.advanceTimersByTimeAsync(POLL_MS / 10);
      const polled = calls.count;
      const job = watches.jobUpdates(credentials, 'e', '8');
      const first = job.next();
      await jest.advanceTimersByTimeAsync(POLL_MS / 2);
      expect((await first).value).toMatchObject({ id: 8 });
      expect(calls.count - polled).toBe(more);
      watches.close();
    }
  });
});

describe('a poll waiting among the answers being made', () => {

  /** Another caller's operation holds the only slot; the job's details are counted as asked for. */
  function crowded() {
    const answers = new AnswersBeingMade({ callerBytes: 1 << 20, processBytes: 1 << 20, slots: 1, callerSlots: 1, smallBytes: 256 * 1024 });
    const holder = answers.answerOf('another caller');
    expect(holder.mayGoOn()).toBe(true);
    const calls = { count: 0 };
    const get = async (): Promise<UpstreamAnswer> => {
      calls.count += 1;
      return { kind: 'ok', body: { id: 7, engineId: 'e', status: 'Executing' }, requestId: undefined, bytes: 100 };
    };
    const env = { CSE_PAGE_BASE: '0', SUBSCRIPTION_POLL_MS: String(POLL_MS), SUBSCRIPTION_MAX_BACKOFF_MS: '60000', REQUEST_TIMEOUT_MS: String(POLL_MS) };
    return { answers, holder, calls, watches: watchesOver(get, env, { answers }) };
  }

  it('gives its wait up as soon as its watch stops, not at its deadline', async () => {
    const { answers, watches } = crowded();
    const stream = watches.jobUpdates(credentials, 'e', '7');
    void stream.next();
    await jest.advanceTimersByTimeAsync(POLL_MS / 10);
    expect(answers.stats.waiting).toBe(1);
    await stream.return(undefined);
    await jest.advanceTimersByTimeAsync(0);
    expect(answers.stats.waiting).toBe(0);
    watches.close();
  });

  it('polls again at its interval when its time ran out waiting for room: the upstream did not fail, so the watch does not back off', async () => {
    const { holder, calls, watches } = crowded();
    const stream = watches.jobUpdates(credentials, 'e', '7');
    let first: unknown;
    void stream.next().then((result) => (first = result.value));
    // Five polls waited out their time (backed off, the fourth would only begin at 17 s).
    await jest.advanceTimersByTimeAsync(9.5 * POLL_MS);
    expect(calls.count).toBe(0);
    holder.release();
    await jest.advanceTimersByTimeAsync(1.2 * POLL_MS);
    expect([calls.count, first]).toEqual([1, expect.objectContaining({ id: 7 })]);
    watches.close();
  });
});

describe('a poll whose calls failed upstream and waited out their room', () => {

  const failures = [
    ['a 503', new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'The upstream is unavailable.', { upstream: { status: 503 } })],
    ['its time-out', new GatewayError(ErrorCode.UPSTREAM_TIMEOUT, 'The upstream did not answer in time.')],
  ] as const;

  it.each(failures)('backs its watch off: the listing failed with %s, so the time its reads waited out does not hide the failure', async (_, failure) => {
    const answers = new AnswersBeingMade({ callerBytes: 1 << 20, processBytes: 1 << 20, slots: 4, callerSlots: 2, smallBytes: 256 * 1024 });
    let down = false;
    const listings = { count: 0 };
    const get = async (call: FakeCall): Promise<UpstreamAnswer> => {
      if (call.route !== 'listJobs') return { kind: 'ok', body: { id: jobIdOf(call), engineId: 'e', status: 'Executing' }, requestId: undefined, bytes: 300 * 1024 };
      listings.count += 1;
      if (down) throw failure;
      return { kind: 'ok', body: { total: 1, data: [{ id: 99, engineId: 'e', status: 'Executing' }] }, requestId: undefined, bytes: 1000 };
    };
    const env = { CSE_PAGE_BASE: '0', SUBSCRIPTION_POLL_MS: String(POLL_MS), SUBSCRIPTION_MAX_BACKOFF_MS: '60000', REQUEST_TIMEOUT_MS: String(POLL_MS) };
    const watches = watchesOver(get, env, { answers });
    const states: unknown[] = [];
    for (const id of ['1', '2']) {
      void (async () => {
        for await (const job of watches.jobUpdates(credentials, 'e', id)) states.push(job);
      })();
    }
    // The first poll learns that a job's details weigh 300 KB.
    await jest.advanceTimersByTimeAsync(POLL_MS / 2);
    expect(states).toHaveLength(2);
    // Another caller's large answer fills the large answers' room: the jobs' reads wait it out, and the
    // listing, which goes on, fails upstream.
    const other = answers.answerOf('another caller');
    expect(other.mayGoOn()).toBe(true);
    other.large();
    other.grow(1 << 20);
    down = true;
    const before = listings.count;
    await jest.advanceTimersByTimeAsync(20 * POLL_MS);
    // Backing off, its polls begin 2, 4 and 8 s apart (each also waits out its 1 s): four in 20 s, not ten.
    expect(listings.count - before).toBeLessThanOrEqual(5);
    watches.close();
    other.release();
  });
});

describe('what watches keep between polls', () => {
  const a = { token: 'a', projectId: 'p' } as unknown as Credentials;
  const b = { token: 'b', projectId: 'p' } as unknown as Credentials;

  /** Every job of every engine `Executing` with a 200 KB description, its answer weighing as much. */
  function largeJobs(): Watches {
    const get = async (call: FakeCall): Promise<UpstreamAnswer> => {
      const body = { id: jobIdOf(call), engineId: call.engineId, status: 'Executing', description: 'd'.repeat(200 * 1024) };
      return { kind: 'ok', body, requestId: undefined, bytes: 200 * 1024 };
    };
    return watchesOver(get, { CSE_PAGE_BASE: '0', SUBSCRIPTION_POLL_MS: String(POLL_MS), REQUEST_TIMEOUT_MS: String(POLL_MS), SUBSCRIPTION_MAX_CALLS_PER_POLL: '100' });
  }

  it("are each watch's last poll's jobs, by the bytes they came in, a caller a share: one watching many engines pushes out its own, not another caller's", async () => {
    const watches = largeJobs();
    void watches.jobUpdates(b, 'e0', '1').next();
    await jest.advanceTimersByTimeAsync(POLL_MS / 10);
    for (let engine = 1; engine <= 60; engine += 1) void watches.jobUpdates(a, `e${engine}`, '1').next();
    await jest.advanceTimersByTimeAsync(1.5 * POLL_MS);
    // 61 polls of 200 KB: what is kept stays within the bound, and the other caller's poll is among it.
    expect(watches.kept.stats.bytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(watches.kept.stats.entries).toBeLessThan(61);
    expect(watches.kept.get(`${credentialDigest(b)} e0`)?.jobs.get('1')).toMatchObject({ id: 1 });
    watches.close();
    expect(watches.kept.stats.entries).toBe(0);
  });
});

describe('a watch whose listing fails', () => {

  it('reads its jobs on their own meanwhile: a listing the gateway cannot read (its page too large) starves none of them, nor backs them off', async () => {
    const calls: string[] = [];
    const get = async (call: FakeCall): Promise<UpstreamAnswer> => {
      calls.push(call.route);
      if (call.route === 'listJobs') throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 'The upstream answered with a body the gateway could not read.');
      return { kind: 'ok', body: { id: jobIdOf(call), engineId: 'e', status: 'Executing' }, requestId: undefined, bytes: 100 };
    };
    const watches = watchesOver(get, { CSE_PAGE_BASE: '0', SUBSCRIPTION_POLL_MS: String(POLL_MS), REQUEST_TIMEOUT_MS: String(POLL_MS) });
    const states: unknown[] = [];
    for (const id of ['1', '2']) {
      void (async () => {
        for await (const job of watches.jobUpdates(credentials, 'e', id)) states.push(job);
      })();
    }
    await jest.advanceTimersByTimeAsync(POLL_MS / 2);
    expect(states).toEqual([expect.objectContaining({ id: 1 }), expect.objectContaining({ id: 2 })]);
    // The jobs answered: no back-off, and their unchanged states are not sent again.
    const reads = () => calls.filter((route) => route === 'getJob').length;
    const before = reads();
    await jest.advanceTimersByTimeAsync(10 * POLL_MS);
    expect(reads() - before).toBeGreaterThanOrEqual(16);
    expect(states).toHaveLength(2);
    watches.close();
  });
});
