import { BreakerBoard, CircuitBreaker, type BreakerState, type Permit } from '../../src/upstream/resilience/BreakerBoard';
import { ErrorCode } from '../../src/errors/codes';
import { GatewayError } from '../../src/errors/GatewayError';

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function breaker(threshold = 3, openMs = 1000) {
  const time = clock();
  const states: BreakerState[] = [];
  const b = new CircuitBreaker({ failureThreshold: threshold, openMs, now: time.now }, (s) => states.push(s));
  const call = (failed: boolean | undefined): Permit => {
    const permit = b.admit();
    b.record(permit, failed);
    return permit;
  };
  return { b, time, states, call };
}

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures and refuses without calling', () => {
    const { b, states, call } = breaker();
    call(true);
    call(true);
    expect(b['current']).toBe('closed');
    call(true);
    expect(b['current']).toBe('open');
    expect(states).toEqual(['open']);
    expect(b.admit()).toEqual({ allowed: false, retryAfterMs: 1000 });
  });

  it('resets the count on a success; ignores uncounted results', () => {
    const { b, call } = breaker();
    call(true);
    call(true);
    call(false);
    call(true);
    call(undefined);
    call(true);
    expect(b['current']).toBe('closed');
    call(true);
    expect(b['current']).toBe('open');
  });

  it('lets exactly one probe through after openMs; its success closes the breaker', () => {
    const { b, time, states, call } = breaker();
    for (let i = 0; i < 3; i += 1) call(true);
    time.advance(999);
    expect(b.admit().allowed).toBe(false);
    time.advance(1);
    const probe = b.admit();
    expect(probe).toEqual({ allowed: true, probe: true });
    expect(b['current']).toBe('half-open');
    expect(b.admit()).toEqual({ allowed: false, retryAfterMs: 0 });
    b.record(probe, false);
    expect(b['current']).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('opens again for another openMs when the probe fails; a cancelled probe frees its place', () => {
    const { b, time, call } = breaker();
    for (let i = 0; i < 3; i += 1) call(true);
    time.advance(1000);
    const cancelled = b.admit();
    b.record(cancelled, undefined);
    expect(b['current']).toBe('half-open');
    const probe = b.admit();
    expect(probe.allowed).toBe(true);
    b.record(probe, true);
    expect(b['current']).toBe('open');
    expect(b.admit()).toEqual({ allowed: false, retryAfterMs: 1000 });
  });

  it('ignores late results of calls admitted before it opened', () => {
    const { b, call } = breaker();
    const late = b.admit();
    for (let i = 0; i < 3; i += 1) call(true);
    b.record(late, false);
    expect(b['current']).toBe('open');
  });
});

describe('BreakerBoard', () => {
  function board() {
    const time = clock();
    const events: string[] = [];
    const sink = { breaker: (e: { scope: string; state: string }) => events.push(`${e.scope}:${e.state}`) };
    const b = new BreakerBoard({ engineBreakerFailures: 2, upstreamBreakerFailures: 2, breakerOpenMs: 100, now: time.now });
    const attempt = (engine: string | undefined, kind: Parameters<BreakerBoard['settle']>[2]) => {
      const admission = b.admit(engine, sink);
      if ('scope' in admission) return admission;
      b.settle(engine, admission, kind, sink);
      return 'called';
    };
    return { b, time, events, attempt };
  }

  it('cuts off one failing engine while others still get through, and tells the sinks', () => {
    const { attempt, events } = board();
    attempt('p/a', 'server');
    attempt('p/a', 'server');
    expect(attempt('p/a', 'answer')).toEqual({ scope: 'engine', retryAfterMs: 100 });
    expect(attempt('p/b', 'answer')).toBe('called');
    expect(attempt(undefined, 'answer')).toBe('called');
    expect(events).toEqual(['engine:open']);
  });

  it('trips the upstream breaker only on transport failures, and then refuses every route', () => {
    const { attempt, events } = board();
    attempt('p/a', 'server');
    attempt('p/b', 'server');
    attempt('p/c', 'refused');
    expect(attempt(undefined, 'answer')).toBe('called');
    attempt('p/d', 'connection');
    attempt('p/e', 'timeout');
    expect(attempt('p/f', 'answer')).toEqual({ scope: 'upstream', retryAfterMs: 100 });
    expect(attempt(undefined, 'answer')).toEqual({ scope: 'upstream', retryAfterMs: 100 });
    expect(events).toEqual(['upstream:open']);
  });

  it('forgets engines that are healthy again: memory holds only engines with something to remember', () => {
    const { b, attempt } = board();
    for (let i = 0; i < 100; i += 1) attempt(`p/${i}`, 'answer');
    expect(b['engines'].size).toBe(0);
    attempt('p/x', 'server');
    expect(b['engines'].size).toBe(1);
    attempt('p/x', 'answer');
    expect(b['engines'].size).toBe(0);
  });
});

describe('BreakerBoard: a 429 waited out per caller and engine', () => {
  const throttledFor = (retryAfter?: number) =>
    new GatewayError(ErrorCode.RATE_LIMITED, 'throttled', { upstream: { status: 429, requestId: 'r1' }, ...(retryAfter === undefined ? {} : { retryAfter }) });

  it('answers the same caller and engine at once with RATE_LIMITED and the seconds left, until Retry-After has passed', () => {
    const time = clock();
    const b = new BreakerBoard({ engineBreakerFailures: 2, upstreamBreakerFailures: 2, breakerOpenMs: 100, now: time.now });
    b.throttle('s', 'p/a', throttledFor(2));
    expect(b.throttled('s', 'p/a')?.extensions).toEqual({ code: 'RATE_LIMITED', upstream: { status: 429, requestId: 'r1' }, retryAfter: 2 });
    time.advance(1500);
    expect(b.throttled('s', 'p/a')?.extensions.retryAfter).toBe(1);
    // Another caller, another engine, the engine list: not throttled.
    expect(b.throttled('t', 'p/a')).toBeUndefined();
    expect(b.throttled('s', 'p/b')).toBeUndefined();
    expect(b.throttled('s', undefined)).toBeUndefined();
    // Nor does a 429 open any breaker.
    expect(b.peek('p/a')).toBeUndefined();
    time.advance(500);
    expect(b.throttled('s', 'p/a')).toBeUndefined();
    expect(b['throttles'].size).toBe(0);
  });

  it.each([
    ['without Retry-After', undefined],
    ['with Retry-After: 0', 0],
  ])('remembers nothing for a 429 %s', (_name, retryAfter) => {
    const b = new BreakerBoard({ engineBreakerFailures: 2, upstreamBreakerFailures: 2, breakerOpenMs: 100, now: clock().now });
    b.throttle('s', undefined, throttledFor(retryAfter));
    expect(b.throttled('s', undefined)).toBeUndefined();
    expect(b['throttles'].size).toBe(0);
  });

  it('stays bounded: the least recently used are forgotten', () => {
    const b = new BreakerBoard({ engineBreakerFailures: 2, upstreamBreakerFailures: 2, breakerOpenMs: 100, maxThrottled: 3, now: clock().now });
    for (let i = 0; i < 10; i += 1) b.throttle(`s${i}`, 'p/a', throttledFor(60));
    expect(b['throttles'].size).toBe(3);
    expect(b.throttled('s9', 'p/a')).toBeDefined();
    expect(b.throttled('s0', 'p/a')).toBeUndefined();
  });
});
