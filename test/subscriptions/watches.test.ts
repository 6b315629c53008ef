import { ErrorCode } from '../../src/errors/codes';
import { GatewayError } from '../../src/errors/GatewayError';
import type { PollPlan, PollResult, WatchFleet } from '../../src/subscriptions/EngineWatch';
import { loadConfig } from '../../src/config/loadConfig';
import { Watches, type WatchMetrics } from '../../src/subscriptions/EngineWatch';
import type { CseHttpClient } from '../../src/upstream/CseHttpClient';
import type { UpstreamAnswer } from '../../src/upstream/stages/types';
import type { Credentials } from '../../src/upstream/credentials';
import type { CseJob } from '../../src/upstream/types';

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
  const POLL_MS = 1000;
  const credentials = { token: 't', projectId: 'p' } as unknown as Credentials;
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

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
    let receive: ((result: PollResult, gap: boolean) => void) | undefined;
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
    receive!(result, false);
    await jest.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['Executing', 'Executing']);
    // The same poller again: nothing new.
    receive!(result, false);
    await jest.advanceTimersByTimeAsync(0);
    expect(seen).toHaveLength(2);
    // Another poller (or the subscriber connection back): a gap.
    receive!(result, true);
    await jest.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['Executing', 'Executing', 'Executing']);
    live.close();
  });
});
