import fc from 'fast-check';
import type { UpstreamAnswer } from '../../src/upstream/stages/types';
import type { CseHttpClient } from '../../src/upstream/CseHttpClient';
import type { Credentials } from '../../src/upstream/credentials';
import { loadConfig } from '../../src/config/loadConfig';
import { Watches } from '../../src/subscriptions/EngineWatch';
import { allocateCalls, dueFirst, ScopeBudget } from '../../src/subscriptions/pollBudget';

describe('allocateCalls', () => {
  const members = fc.array(fc.record({ demand: fc.nat({ max: 200 }), credit: fc.double({ min: -5, max: 5, noNaN: true }) }), { maxLength: 12 });

  it('gives every demand when they fit, else exactly the bound, never more than a member asks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), members, (max, asked) => {
        const shares = allocateCalls(max, asked);
        const total = asked.reduce((sum, member) => sum + member.demand, 0);
        const given = shares.reduce((sum, each) => sum + each.share, 0);
        expect(given).toBe(Math.min(max, total));
        shares.forEach((each, i) => {
          expect(each.share).toBeGreaterThanOrEqual(0);
          expect(each.share).toBeLessThanOrEqual(asked[i]!.demand);
        });
      }),
    );
  });

  it('over many intervals, gives each member its part in proportion to its demand (within one call per member)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 8 }), (max, demands) => {
        let state = demands.map((demand) => ({ demand, credit: 0 }));
        const got = demands.map(() => 0);
        const total = demands.reduce((sum, demand) => sum + demand, 0);
        const intervals = 50;
        for (let interval = 0; interval < intervals; interval += 1) {
          const shares = allocateCalls(max, state);
          shares.forEach((each, i) => (got[i]! += each.share));
          state = state.map((member, i) => ({ demand: member.demand, credit: shares[i]!.credit }));
        }
        demands.forEach((demand, i) => {
          const fair = total <= max ? demand * intervals : (max * demand * intervals) / total;
          expect(Math.abs(got[i]! - fair)).toBeLessThanOrEqual(demands.length);
        });
      }),
    );
  });
});

describe('ScopeBudget', () => {
  it('grants at most the bound per interval, whatever the members, their demands and when they ask', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('join' as const), demand: fc.nat({ max: 40 }) }),
      fc.record({ kind: fc.constant('take' as const), member: fc.nat(), times: fc.integer({ min: 1, max: 30 }) }),
      fc.record({ kind: fc.constant('leave' as const), member: fc.nat() }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 500 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 50, max: 300 }), fc.array(op, { maxLength: 200 }), (max, windowMs, ops) => {
        let now = 0;
        const budget = new ScopeBudget(max, windowMs, () => now);
        const shares: ReturnType<ScopeBudget['join']>[] = [];
        const granted = new Map<number, number>();
        for (const step of ops) {
          if (step.kind === 'join') shares.push(budget.join({ demand: () => step.demand }));
          else if (step.kind === 'leave') shares[step.member % Math.max(1, shares.length)]?.leave();
          else if (step.kind === 'wait') now += step.ms;
          else {
            const share = shares[step.member % Math.max(1, shares.length)];
            for (let i = 0; i < step.times && share !== undefined; i += 1) {
              if (share.take()) granted.set(Math.floor(now / windowMs), (granted.get(Math.floor(now / windowMs)) ?? 0) + 1);
            }
          }
        }
        for (const calls of granted.values()) expect(calls).toBeLessThanOrEqual(max);
      }),
    );
  });

  it('whenEmpty: an empty budget is dropped once its interval is over, not before, nor while a member is in', () => {
    jest.useFakeTimers({ now: 0 });
    try {
      const budget = new ScopeBudget(2, 1000, () => Date.now());
      const drops: number[] = [];
      const drop = () => drops.push(Date.now());
      // No call taken: no interval to keep.
      budget.whenEmpty(drop);
      expect(drops).toEqual([0]);
      jest.advanceTimersByTime(300);
      const first = budget.join({ demand: () => 1 });
      expect(first.take()).toBe(true);
      first.leave();
      budget.whenEmpty(drop);
      jest.advanceTimersByTime(400);
      // Kept: a member joining now gets what the interval has left, not a fresh one.
      const second = budget.join({ demand: () => 1 });
      expect([second.take(), second.take()]).toEqual([true, false]);
      jest.advanceTimersByTime(300);
      expect(drops).toEqual([0]);
      second.leave();
      budget.whenEmpty(drop);
      expect(drops).toEqual([0, 1000]);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('dueFirst', () => {
  it('polls each of n things within ceil(n / k) polls of k calls', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 15 }), (n, k) => {
        const items = Array.from({ length: n }, (_, i) => `job${i}`);
        const last = new Map<string, number>();
        const rounds = Math.ceil(n / k);
        for (let poll = 1; poll <= 3 * rounds; poll += 1) {
          for (const item of dueFirst(items, (each) => last.get(each)).slice(0, k)) last.set(item, poll);
          if (poll >= rounds) expect(Math.max(...items.map((item) => poll - (last.get(item) ?? Number.NEGATIVE_INFINITY)))).toBeLessThan(rounds);
        }
      }),
    );
  });
});

/**
 * The property through the real watches: Watches and its EngineWatches over a fake upstream
 * that records each call, on fake timers. Whatever one scope watches — jobs on several engines,
 * on the newest pages or not, engine events — its calls in any interval stay within the bound,
 * and every watched job gets its state within a few intervals.
 */
describe('one scope watching anything', () => {
  const POLL_MS = 1000;
  const PAGE_SIZE = 5;

  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const engineArb = fc.record({
    jobs: fc.integer({ min: 1, max: 40 }),
    watched: fc.array(fc.nat({ max: 39 }), { maxLength: 40 }),
    events: fc.boolean(),
  });

  it('makes at most SUBSCRIPTION_MAX_CALLS_PER_POLL calls per interval, and reads every watched job at least once every ceil(calls needed / bound) + 1 intervals', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.array(engineArb, { minLength: 1, maxLength: 4 }), async (bound, engines) => {
        const calls: Array<{ at: number; engine: string; jobs: string[] }> = [];
        const jobsOf = (engine: string) => engines[Number(engine.slice(1))]!.jobs;
        const job = (engine: string, id: number) => ({ id, status: 'Executing', engineId: engine });
        const http = {
          cacheGenerationFor: () => 1,
          get: async (call: { route: string; path: string; engineId?: string; query?: Record<string, string> }): Promise<UpstreamAnswer> => {
            const engine = call.engineId!;
            if (call.route === 'listJobs') {
              const offset = Number(call.query!.offset);
              // Newest first: the highest ids.
              const ids = Array.from({ length: jobsOf(engine) }, (_, i) => jobsOf(engine) - i).slice(offset, offset + Number(call.query!.limit));
              calls.push({ at: Date.now(), engine, jobs: ids.map(String) });
              return { kind: 'ok', body: { total: jobsOf(engine), data: ids.map((id) => job(engine, id)) }, requestId: undefined, bytes: 0 };
            }
            const id = call.path.split('/').at(-1)!;
            calls.push({ at: Date.now(), engine, jobs: [id] });
            return { kind: 'ok', body: job(engine, Number(id)), requestId: undefined, bytes: 0 };
          },
        } as unknown as CseHttpClient;
        const config = loadConfig({
          CSE_PAGE_BASE: '0',
          CSE_MAX_PAGE_SIZE: String(PAGE_SIZE),
          SUBSCRIPTION_LIST_PAGES: '2',
          SUBSCRIPTION_POLL_MS: String(POLL_MS),
          SUBSCRIPTION_MAX_BACKOFF_MS: String(10 * POLL_MS),
          REQUEST_TIMEOUT_MS: String(POLL_MS),
          CSE_REQUEST_CONCURRENCY: '4',
          SUBSCRIPTION_MAX_CALLS_PER_POLL: String(bound),
          SUBSCRIPTION_MAX_WATCHED_PER_SCOPE: '1000',
        });
        const live = new Watches(config, http, { poll() {}, pollers() {}, conflated() {} });
        const credentials = { token: 'token', projectId: 'p' } as unknown as Credentials;
        const firstState = new Map<string, number>();
        const start = Date.now();
        let watchedCount = 0;
        engines.forEach((engine, e) => {
          const engineId = `e${e}`;
          if (engine.events) {
            watchedCount += 1;
            void live.engineJobEvents(credentials, engineId).next();
          }
          for (const index of new Set(engine.watched.filter((i) => i < engine.jobs))) {
            watchedCount += 1;
            const key = `${engineId}/${index + 1}`;
            void live.jobUpdates(credentials, engineId, String(index + 1)).next().then(() => firstState.set(key, Date.now()));
          }
        });
        // What one pass over everything would cost: per engine, its listing (when it serves) and the jobs not on it.
        const needed = engines.reduce((sum, engine) => {
          const watched = new Set(engine.watched.filter((i) => i < engine.jobs)).size;
          return sum + (engine.events || watched > 1 ? 2 : 0) + watched;
        }, 0);
        const every = (Math.ceil(needed / bound) + 1) * POLL_MS;
        const end = start + 3 * every;
        await jest.advanceTimersByTimeAsync(end - start);
        live.close();

        const perInterval = new Map<number, number>();
        for (const call of calls) perInterval.set(Math.floor(call.at / POLL_MS), (perInterval.get(Math.floor(call.at / POLL_MS)) ?? 0) + 1);
        for (const count of perInterval.values()) expect(count).toBeLessThanOrEqual(bound);
        expect(firstState.size).toBe(watchedCount - engines.filter((engine) => engine.events).length);
        // Each watched job is read (a details call, or a page that lists it) at least once per `every`.
        for (const key of firstState.keys()) {
          const [engine, id] = key.split('/') as [string, string];
          const reads = calls.filter((call) => call.engine === engine && call.jobs.includes(id)).map((call) => call.at);
          const gaps = [...reads, end].map((at, i) => at - (i === 0 ? start : reads[i - 1]!));
          expect(Math.max(...gaps)).toBeLessThanOrEqual(every);
        }
      }),
      { numRuns: 60 },
    );
  });
});
