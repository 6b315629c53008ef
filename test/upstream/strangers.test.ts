import { CredentialGate } from '../../src/upstream/CredentialGate';
import { classifyFailure, type Failure } from '../../src/upstream/errorMapping';
import { InFlightLimiter, type InFlightLimits } from '../../src/upstream/resilience/InFlightLimiter';
import type { AttemptRequest, CallRequest, UpstreamAnswer } from '../../src/upstream/stages/types';

/**
 * Credentials the upstream has not accepted (made-up tokens, each a new caller) share one caller's
 * in-flight slots and queue places, and no engine's: a caller the upstream accepted finds the rest.
 */

const LIMITS: InFlightLimits = { inFlight: 4, queue: 4, perEngine: { inFlight: 1, queue: 1 }, perCaller: { inFlight: 2, queue: 2 }, strangers: { inFlight: 2, queue: 2 } };

type Outcome = 'run' | 'queued' | 'shed';

/** Each attempt, `s<token>@<engine>` a stranger's, `v<token>@<engine>` a verified caller's; none ends. */
function outcomes(attempts: readonly string[]): Outcome[] {
  const limiter = new InFlightLimiter(LIMITS);
  const started = new Set<unknown>();
  const handler = limiter.stage()((attempt) => (started.add(attempt), new Promise(() => {})));
  return attempts.map((spec) => {
    const [, kind, token, engine] = /^([sv])(\d+)@(\w+)$/.exec(spec)!;
    let shed = false;
    const attempt = {
      engineKey: `p/${engine}`,
      digest: `digest-${token}`,
      caller: `caller-${token}`,
      stranger: kind === 's' ? true : undefined,
      route: 'getEngine',
      events: { shed: () => (shed = true) },
      request: {},
      signal: new AbortController().signal,
    };
    handler(attempt as unknown as AttemptRequest).catch(() => {});
    return started.has(attempt) ? 'run' : shed ? 'shed' : 'queued';
  });
}

describe("the in-flight limiter's accounting of strangers", () => {
  it.each<[string, string[], Outcome[]]>([
    [
      'made-up tokens, each a new caller, hold one caller’s share together',
      ['s1@a', 's2@b', 's3@c', 's4@d', 's5@e'],
      ['run', 'run', 'queued', 'queued', 'shed'],
    ],
    ['a verified caller still runs at once beside them', ['s1@a', 's2@b', 's3@c', 's4@d', 's5@e', 'v9@f'], ['run', 'run', 'queued', 'queued', 'shed', 'run']],
    [
      'strangers naming a verified caller’s engine do not take that engine’s share',
      ['s1@a', 's2@a', 's3@a', 'v9@a', 'v9@a'],
      ['run', 'run', 'queued', 'run', 'queued'],
    ],
    [
      'verified callers keep the rest of the slots and the queue',
      ['s1@a', 's2@b', 's3@c', 's4@d', 's5@e', 'v6@f', 'v7@g', 'v8@h', 'v9@i', 'v10@j'],
      ['run', 'run', 'queued', 'queued', 'shed', 'run', 'run', 'queued', 'queued', 'shed'],
    ],
    [
      'unmarked, each token is a caller of its own, and together they take the whole (what strangers must not)',
      ['v1@a', 'v2@b', 'v3@c', 'v4@d', 'v5@e', 'v6@f', 'v7@g', 'v8@h', 'v9@i'],
      ['run', 'run', 'run', 'run', 'queued', 'queued', 'queued', 'queued', 'shed'],
    ],
  ])('%s', (_name, attempts, expected) => {
    expect(outcomes(attempts)).toEqual(expected);
  });

  it('a stranger’s freed slot goes to the next stranger, never past the strangers’ share', async () => {
    const limiter = new InFlightLimiter(LIMITS);
    const ends: Array<() => void> = [];
    const handler = limiter.stage()(() => new Promise((resolve) => ends.push(() => resolve({ ok: true } as never))));
    const attempt = (digest: string) =>
      ({ engineKey: 'p/a', digest, stranger: true, route: 'getEngine', events: {}, request: {}, signal: new AbortController().signal }) as never;
    const calls = ['1', '2', '3', '4'].map((digest) => handler(attempt(digest)));
    expect(ends).toHaveLength(2);
    ends[0]!();
    await calls[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(ends).toHaveLength(3);
    expect(limiter['total'].active).toBe(2);
  });
});

describe('the credential gate marks the calls of credentials the upstream has not accepted', () => {
  const refused = (classifyFailure({ status: 401, headers: {}, body: '{"error_code":"APIG.0301"}' }) as Failure).error;
  const answer: UpstreamAnswer = { kind: 'ok', body: {}, requestId: undefined, bytes: 2 };
  const callOf = (digest: string): CallRequest => ({
    route: 'getEngine',
    path: '/e',
    engineKey: undefined,
    request: { credentials: { token: 't', projectId: 'p', enterpriseProjectId: undefined } },
    digest,
    caller: digest,
    key: `${digest} /e`,
    events: {},
    signal: undefined,
  });

  it('from its first call until an accepted answer, again after a 401, and not for a scope accepted long ago', async () => {
    let now = 0;
    const gate = new CredentialGate({ rejectionTtlMs: 1000, recheckMs: 5000, now: () => now });
    const seen: Array<boolean | undefined> = [];
    let fail: unknown;
    const stage = gate.stage()(async (call) => {
      seen.push(call.stranger);
      if (fail !== undefined) throw fail;
      return answer;
    });
    await stage(callOf('s'));
    // Accepted: the call goes on as it came (the hot path makes no copy).
    const call = callOf('s');
    const passed: CallRequest[] = [];
    await gate.stage()(async (c) => (passed.push(c), answer))(call);
    expect(passed[0]).toBe(call);
    // Accepted long ago (past recheckMs: probed again), but never refused since: not a stranger.
    now += 60_000;
    await stage(callOf('s'));
    fail = refused;
    await expect(stage(callOf('s'))).rejects.toBe(refused);
    now += 2000;
    fail = undefined;
    await stage(callOf('s'));
    await stage(callOf('s'));
    expect(seen).toEqual([true, undefined, undefined, true, undefined]);
  });
});
