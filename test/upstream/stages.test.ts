import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, Pool } from 'undici';
import { ErrorCode } from '../../src/errors/codes';
import { GatewayError } from '../../src/errors/GatewayError';
import type { UpstreamEvents } from '../../src/observability/events';
import { CredentialGate } from '../../src/upstream/CredentialGate';
import { AnswerOutgrewRoom, classifyFailure, type Failure } from '../../src/upstream/errorMapping';
import { SingleFlight } from '../../src/cache/SingleFlight';
import { CallerShareCache } from '../../src/cache/CallerShareCache';
import type { ExchangeResult, UpstreamAnswer } from '../../src/upstream/stages/types';
import { exchangeStage } from '../../src/upstream/exchange';
import { BreakerBoard } from '../../src/upstream/resilience/BreakerBoard';
import { InFlightLimiter } from '../../src/upstream/resilience/InFlightLimiter';
import { cacheStage, singleFlightStage, type CachedAnswer } from '../../src/upstream/stages/cacheStage';
import { retryStage } from '../../src/upstream/stages/retryStage';
import type { AttemptRequest, CallRequest } from '../../src/upstream/stages/types';
import type { SecondLevel } from '../../src/cache/secondLevel';

/** A scope that is its own caller (one project per token). */
const alone = (digest: string) => ({ digest, caller: digest });

const inFlightOf = (limiter: InFlightLimiter) => limiter['total'].active;

/** Each stage of the upstream client alone, with a fake `next`: what it does around the call. */

const credentials = { token: 'token-0123456789', projectId: 'p', enterpriseProjectId: undefined };
const TTLS = { listMs: 1000, engineMs: 1000, jobMs: 1000, terminalJobMs: 1000 };

function recorder() {
  const log: string[] = [];
  const events: UpstreamEvents = {
    attempt: (e) => log.push(`attempt #${e.attempt} ${e.outcome} ${e.status ?? '-'}`),
    cache: (e) => log.push(`cache ${e.hit ? 'hit' : 'miss'}`),
    joined: () => log.push('joined'),
    breaker: (e) => log.push(`breaker ${e.scope} ${e.state}`),
    inFlight: (n) => log.push(`inFlight ${n}`),
    shed: () => log.push('shed'),
  };
  return { log, events };
}

function callOf(overrides: Partial<CallRequest> = {}): CallRequest {
  return {
    route: 'getEngine',
    path: '/v2/p/enginemgr/engines/e',
    engineKey: 'p/e',
    request: { credentials, refusal: {} },
    digest: 'digest',
    caller: 'digest',
    key: 'digest http://upstream/v2/p/enginemgr/engines/e',
    events: {},
    signal: undefined,
    ...overrides,
  };
}

const attemptOf = (overrides: Partial<AttemptRequest> = {}): AttemptRequest => ({ ...callOf(), signal: new AbortController().signal, attempt: 0, ...overrides });
const ok = (body: unknown = { id: 'e' }): UpstreamAnswer => ({ kind: 'ok', body, requestId: 'r', bytes: 10 });
const okResult = (body?: unknown): ExchangeResult => ({ ok: true, answer: ok(body), status: 200, durationMs: 1 });
const failed = (status: number, kind: 'server' | 'refused' | 'timeout' | 'connection', code: ErrorCode = ErrorCode.UPSTREAM_ERROR): ExchangeResult => ({
  ok: false,
  error: new GatewayError(code, 'failed', { upstream: { status } }),
  status,
  kind,
  // As the classifier says (errorMapping.test.ts): connection failures and 500/502/503/504.
  retry: kind === 'connection' || (kind === 'server' && [500, 502, 503, 504].includes(status)),
  durationMs: 1,
});
/** An upstream error status as the failure classifier turns it into an error (and a verdict). */
const refused = (status: number, body = '') => (classifyFailure({ status, headers: {}, body }) as Failure).error;
const gateOf = () => new CredentialGate({ rejectionTtlMs: 10_000, recheckMs: 60_000 });
async function vouch(gate: CredentialGate, digest = 'digest') {
  gate.settle(alone(digest), await gate.admit(digest, new AbortController().signal));
}

describe('refusalStage', () => {
  it('fails at once with the refusal the operation recorded, or the 401 the gate remembers', async () => {
    const gate = gateOf();
    const next = jest.fn(async () => ok());
    const error = refused(401);
    await expect(gate.refusalStage()(next)(callOf({ request: { credentials, refusal: { error } } }))).rejects.toBe(error);
    const unauthorized = refused(401);
    gate.settle(alone('digest'), await gate.admit('digest', new AbortController().signal), unauthorized);
    await expect(gate.refusalStage()(next)(callOf())).rejects.toBe(unauthorized);
    expect(next).not.toHaveBeenCalled();
  });

  it("records the first 401 a call meets on the operation, and nothing else (a 403 denies its own field only)", async () => {
    for (const [thrown, recorded] of [[refused(401), true], [refused(403), false], [new GatewayError(ErrorCode.UPSTREAM_ERROR, 'x', { upstream: { status: 500 } }), false]] as const) {
      const request = { credentials, refusal: {} as { error?: GatewayError } };
      await expect(gateOf().refusalStage()(async () => Promise.reject(thrown))(callOf({ request }))).rejects.toBe(thrown);
      expect(request.refusal.error).toBe(recorded ? thrown : undefined);
    }
  });
});

describe('cacheStage', () => {
  it('serves a stored answer, frozen, to a vouched scope; stores only ok answers', async () => {
    const gate = gateOf();
    await vouch(gate);
    const cache = new CallerShareCache<CachedAnswer>({ maxEntries: 10, maxBytes: 1 << 20 });
    const { log, events } = recorder();
    const next = jest.fn(async () => ok());
    const stage = cacheStage(cache, TTLS, gate)(next);
    const first = await stage(callOf({ events }));
    const second = await stage(callOf({ events }));
    expect(second).toBe(first);
    expect(first.kind === 'ok' && Object.isFrozen(first.body)).toBe(true);
    expect(next).toHaveBeenCalledTimes(1);
    expect(log).toEqual(['cache miss', 'cache hit']);

    const notFound = cacheStage(cache, TTLS, gate)(async () => ({ kind: 'not-found', upstream: { status: 400 } }));
    await notFound(callOf({ key: 'other' }));
    expect(cache.get('other')).toBeUndefined();
  });

  it('keeps an answer fresh from the exchange without its text (the body once, not twice, in memory)', async () => {
    const gate = gateOf();
    await vouch(gate);
    const cache = new CallerShareCache<CachedAnswer>({ maxEntries: 10, maxBytes: 1 << 20 });
    const text = '{"id":"e"}';
    const stage = cacheStage(cache, TTLS, gate)(async () => ({ kind: 'ok', body: { id: 'e' }, requestId: undefined, bytes: text.length, text }));
    const first = await stage(callOf());
    expect(first).toMatchObject({ text });
    const kept = await stage(callOf());
    expect(kept).toEqual({ kind: 'ok', body: { id: 'e' }, requestId: undefined, bytes: text.length });
    expect('text' in kept).toBe(false);
  });

  it('does not serve a scope the upstream has not answered within the recheck time (a miss)', async () => {
    const cache = new CallerShareCache<CachedAnswer>({ maxEntries: 10, maxBytes: 1 << 20 });
    cache.set('digest http://upstream/v2/p/enginemgr/engines/e', { answer: ok(), generation: 1 }, { ttlMs: 1000, bytes: 10, caller: 'c' });
    const { log, events } = recorder();
    const next = jest.fn(async () => ok({ id: 'fresh' }));
    const answer = await cacheStage(cache, TTLS, gateOf())(next)(callOf({ events }));
    expect(answer.kind === 'ok' && answer.body).toEqual({ id: 'fresh' });
    expect(log).toEqual(['cache miss']);
  });

  it('serves nothing kept before the upstream last refused the scope, though it is vouched for again', async () => {
    const gate = new CredentialGate({ rejectionTtlMs: 0, recheckMs: 60_000 });
    await vouch(gate);
    const cache = new CallerShareCache<CachedAnswer>({ maxEntries: 10, maxBytes: 1 << 20 });
    const next = jest.fn(async () => ok());
    const stage = cacheStage(cache, TTLS, gate)(next);
    await stage(callOf());
    // A 401, then an answer: vouched for again, under a new generation.
    gate.settle(alone('digest'), await gate.admit('digest', new AbortController().signal), refused(401));
    await vouch(gate);
    await stage(callOf());
    expect(next).toHaveBeenCalledTimes(2);
  });

  it("a 403 drops what was kept for that call's resource only, and keeps serving the scope's other answers", async () => {
    const gate = gateOf();
    await vouch(gate);
    const cache = new CallerShareCache<CachedAnswer>({ maxEntries: 10, maxBytes: 1 << 20 });
    let denied = false;
    const next = jest.fn(async (call: CallRequest) => {
      if (denied && call.key === 'denied') throw refused(403);
      return ok({ id: call.key });
    });
    const stage = cacheStage(cache, TTLS, gate)(next);
    await stage(callOf({ key: 'denied' }));
    await stage(callOf({ key: 'other' }));
    denied = true;
    // A subscription's poll reads past the cache and meets the 403.
    await expect(stage(callOf({ key: 'denied', request: { credentials, refusal: {}, fresh: true } }))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(cache.get('denied')).toBeUndefined();
    await expect(stage(callOf({ key: 'denied' }))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await stage(callOf({ key: 'other' }))).toMatchObject({ body: { id: 'other' } });
    expect(next.mock.calls.map(([call]) => call.key)).toEqual(['denied', 'other', 'denied', 'denied']);
  });

  it('a fresh call (a subscription poll) reads past the cache and refills it for the calls after it', async () => {
    const gate = gateOf();
    await vouch(gate);
    const cache = new CallerShareCache<CachedAnswer>({ maxEntries: 10, maxBytes: 1 << 20 });
    let n = 0;
    const next = jest.fn(async () => ok({ id: `answer-${++n}` }));
    const stage = cacheStage(cache, TTLS, gate)(next);
    await stage(callOf());
    const fresh = await stage(callOf({ request: { credentials, refusal: {}, fresh: true } }));
    expect(fresh.kind === 'ok' && fresh.body).toEqual({ id: 'answer-2' });
    const after = await stage(callOf());
    expect(after.kind === 'ok' && after.body).toEqual({ id: 'answer-2' });
    expect(next).toHaveBeenCalledTimes(2);
  });

  it('passes a route whose TTL is 0 straight through, without a lookup', async () => {
    const cache = new CallerShareCache<CachedAnswer>({ maxEntries: 10, maxBytes: 1 << 20 });
    const { log, events } = recorder();
    await cacheStage(cache, { ...TTLS, engineMs: 0 }, gateOf())(async () => ok())(callOf({ events }));
    expect(log).toEqual([]);
    expect(cache.stats.entries).toBe(0);
  });
});

describe('singleFlightStage', () => {
  it('makes identical concurrent calls once, hands every caller the same frozen answer, and leaves a lone answer as parsed', async () => {
    const { log, events } = recorder();
    let release!: () => void;
    const next = jest.fn(() => new Promise<UpstreamAnswer>((resolve) => (release = () => resolve(ok()))));
    const stage = singleFlightStage(new SingleFlight<UpstreamAnswer>())(next);
    const a = stage(callOf({ events }));
    const b = stage(callOf({ events }));
    release();
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toBe(rb);
    expect(ra.kind === 'ok' && Object.isFrozen(ra.body)).toBe(true);
    expect(next).toHaveBeenCalledTimes(1);
    expect(log).toEqual(['joined']);
    const alone = await singleFlightStage(new SingleFlight<UpstreamAnswer>())(async () => ok())(callOf());
    expect(alone.kind === 'ok' && Object.isFrozen(alone.body)).toBe(false);
  });

  it('lets a caller whose signal aborts leave with a coded error, without failing the others', async () => {
    let release!: () => void;
    const stage = singleFlightStage(new SingleFlight<UpstreamAnswer>())(() => new Promise((resolve) => (release = () => resolve(ok()))));
    const controller = new AbortController();
    const impatient = stage(callOf({ signal: controller.signal }));
    const patient = stage(callOf());
    controller.abort(new DOMException('timed out', 'TimeoutError'));
    await expect(impatient).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    release();
    await expect(patient).resolves.toMatchObject({ kind: 'ok' });
  });

  it('asks again, with its own time and room, when the call it joined ran out of the time or room of the one that began it', async () => {
    const timedOut = new GatewayError(ErrorCode.UPSTREAM_TIMEOUT, 'The operation ran out of time before the upstream answered.');
    const failed = new GatewayError(ErrorCode.UPSTREAM_ERROR, 'The upstream failed.');
    const outgrew = new AnswerOutgrewRoom(4 * 1024 * 1024, true);
    for (const [error, laterLeft, calls, later] of [
      [timedOut, 10_000, 2, 'ok'],
      [outgrew, 10_000, 2, 'ok'],
      [outgrew, -1, 1, 'UPSTREAM_UNAVAILABLE'],
      // Out of time itself, or a failure that is the upstream's: the same error, no second call.
      [timedOut, -1, 1, 'UPSTREAM_TIMEOUT'],
      [failed, 10_000, 1, 'UPSTREAM_ERROR'],
    ] as const) {
      let fail!: () => void;
      const next = jest.fn((): Promise<UpstreamAnswer> => (next.mock.calls.length === 1 ? new Promise((_resolve, reject) => (fail = () => reject(error))) : Promise.resolve(ok())));
      const stage = singleFlightStage(new SingleFlight<UpstreamAnswer>())(next);
      const request = (leftMs: number) => ({ credentials, refusal: {}, deadline: performance.now() + leftMs });
      const first = stage(callOf({ request: request(1) }));
      const joined = stage(callOf({ request: request(laterLeft) }));
      fail();
      await expect(first).rejects.toBe(error);
      const outcome = await joined.then((answer) => answer.kind, (thrown: GatewayError) => thrown.code);
      expect([outcome, next.mock.calls.length]).toEqual([later, calls]);
    }
  });
});

describe('credentialGateStage', () => {
  it('holds the calls of an unknown scope until the first one is answered', async () => {
    const gate = gateOf();
    let release!: () => void;
    let calls = 0;
    const stage = gate.stage()(() => {
      calls += 1;
      return calls === 1 ? new Promise<UpstreamAnswer>((resolve) => (release = () => resolve(ok()))) : Promise.resolve(ok());
    });
    const first = stage(callOf());
    const second = stage(callOf());
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(1);
    release();
    await Promise.all([first, second]);
    expect(calls).toBe(2);
    expect(gate.generation('digest')).toBeDefined();
  });

  it("tells the fleet (SharedAnswers.forget) of a 401, never of a 403: a denied resource ends none of the scope's answers", async () => {
    for (const [error, forgotten] of [[refused(403), 0], [refused(401), 1]] as const) {
      const forget = jest.fn(async () => undefined);
      const shared = { forget } as unknown as SecondLevel<unknown>;
      const gate = gateOf();
      await vouch(gate);
      const generation = gate.generation('digest');
      await expect(gate.stage(shared)(async () => Promise.reject(error))(callOf())).rejects.toBe(error);
      expect(forget).toHaveBeenCalledTimes(forgotten);
      expect(gate.generation('digest')).toBe(forgotten === 0 ? generation : undefined);
    }
  });

  it.each([
    [refused(401), 'refused'],
    [refused(403), 'accepted'],
    [refused(400, '{"error_code":"SVCSTG.00501152"}'), 'accepted'],
    [refused(429), 'unknown'],
    [refused(500), 'unknown'],
    [new GatewayError(ErrorCode.UPSTREAM_TIMEOUT, 'x'), 'unknown'],
    [new Error('bug'), 'unknown'],
  ])('reads %s as %s', async (error, kind) => {
    const gate = new CredentialGate({ rejectionTtlMs: 1000, recheckMs: 1000 });
    gate.settle(alone('s'), await gate.admit('s', new AbortController().signal), error);
    const accepted = gate.generation('s') !== undefined ? 'accepted' : 'unknown';
    expect(gate.rejection('s') !== undefined ? 'refused' : accepted).toBe(kind);
  });
});

describe('retryStage', () => {
  const retry = retryStage({ retries: 2, retryBaseMs: 1, random: () => 0 });

  it('retries a 503 until it succeeds, reporting every attempt with its number', async () => {
    const { log, events } = recorder();
    const results = [failed(503, 'server', ErrorCode.UPSTREAM_UNAVAILABLE), okResult()];
    const seen: number[] = [];
    const next = jest.fn(async (attempt: AttemptRequest) => {
      seen.push(attempt.attempt);
      return results.shift()!;
    });
    await expect(retry(next)(callOf({ events }))).resolves.toMatchObject({ kind: 'ok' });
    expect(log).toEqual(['attempt #0 error 503', 'attempt #1 ok 200']);
    expect(seen).toEqual([0, 1]);
  });

  it('gives up after the configured retries, and never retries a 4xx or a timeout', async () => {
    const always = (result: ExchangeResult) => jest.fn(async () => result);
    const server = always(failed(500, 'server'));
    await expect(retry(server)(callOf())).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(server).toHaveBeenCalledTimes(3);
    for (const result of [failed(404, 'refused'), failed(504, 'timeout', ErrorCode.UPSTREAM_TIMEOUT)]) {
      const next = always(result);
      await expect(retry(next)(callOf())).rejects.toBe((result as { error: GatewayError }).error);
      expect(next).toHaveBeenCalledTimes(1);
    }
  });

  it('starts no attempt past the deadline, and ends the call on a thrown refusal', async () => {
    const next = jest.fn(async () => okResult());
    await expect(retry(next)(callOf({ request: { credentials, deadline: performance.now() - 1 } }))).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(next).not.toHaveBeenCalled();
    const shed = new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'overloaded');
    const refusing = jest.fn(async () => Promise.reject(shed));
    await expect(retry(refusing)(callOf())).rejects.toBe(shed);
    expect(refusing).toHaveBeenCalledTimes(1);
  });
});

describe('breaker stages', () => {
  const board = () => new BreakerBoard({ engineBreakerFailures: 2, upstreamBreakerFailures: 10, breakerOpenMs: 60_000 });

  it('opens the engine breaker after its failures; then the check refuses before the attempt queues', async () => {
    const breakers = board();
    const { log, events } = recorder();
    const failing = breakers.stage()(async () => failed(500, 'server'));
    await failing(attemptOf({ events }));
    await failing(attemptOf({ events }));
    expect(log).toEqual(['breaker engine open']);
    const next = jest.fn(async () => okResult());
    await expect(breakers.checkStage()(next)(attemptOf())).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', extensions: { reason: 'CIRCUIT_OPEN' } });
    await expect(breakers.stage()(next)(attemptOf())).rejects.toMatchObject({ extensions: { reason: 'CIRCUIT_OPEN' } });
    expect(next).not.toHaveBeenCalled();
    // Another engine is not affected.
    await expect(breakers.checkStage()(next)(attemptOf({ engineKey: 'p/other' }))).resolves.toMatchObject({ ok: true });
  });

  it("remembers a 429's Retry-After: the caller's next call to that engine is answered at once, a retry of the same call goes", async () => {
    const breakers = board();
    const throttled: ExchangeResult = {
      ok: false,
      error: new GatewayError(ErrorCode.RATE_LIMITED, 'throttled', { upstream: { status: 429 }, retryAfter: 30 }),
      status: 429,
      kind: 'throttled',
      retry: true,
      durationMs: 1,
    };
    await breakers.stage()(async () => throttled)(attemptOf());
    const next = jest.fn(async () => okResult());
    const check = breakers.checkStage()(next);
    await expect(check(attemptOf())).rejects.toMatchObject({ code: 'RATE_LIMITED', extensions: { retryAfter: 30, upstream: { status: 429 } } });
    expect(next).not.toHaveBeenCalled();
    // The retry stage waited out that Retry-After before its retry; another caller is not throttled.
    await expect(check(attemptOf({ attempt: 1 }))).resolves.toMatchObject({ ok: true });
    await expect(check(attemptOf({ digest: 'another' }))).resolves.toMatchObject({ ok: true });
    expect(next).toHaveBeenCalledTimes(2);
  });

  it('counts a 4xx as a success for the engine (it answered)', async () => {
    const breakers = board();
    for (let i = 0; i < 5; i += 1) await breakers.stage()(async () => failed(404, 'refused'))(attemptOf());
    expect(breakers.peek('p/e')).toBeUndefined();
  });
});

describe('limiterStage', () => {
  it('sheds past the caps with OVERLOADED, and frees the slot when the attempt ends, even on a throw', async () => {
    const limiter = new InFlightLimiter({ inFlight: 1, queue: 0, perEngine: { inFlight: 1, queue: 0 }, perCaller: { inFlight: 1, queue: 0 } });
    const { log, events } = recorder();
    let release!: () => void;
    const holding = limiter.stage()(() => new Promise((resolve) => (release = () => resolve(okResult()))));
    const first = holding(attemptOf({ events, request: { credentials, events } }));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(limiter.stage()(async () => okResult())(attemptOf({ events }))).rejects.toMatchObject({ extensions: { reason: 'OVERLOADED' } });
    release();
    await first;
    expect(log).toEqual(['inFlight 1', 'shed', 'inFlight 0']);
    await expect(limiter.stage()(async () => Promise.reject(new Error('bug')))(attemptOf())).rejects.toThrow('bug');
    expect(inFlightOf(limiter)).toBe(0);
  });
});

describe('exchangeStage', () => {
  let server: Server;
  let origin: string;
  const agent = new Agent();
  const received: string[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      received.push(request.url ?? '');
      // Headers and the start of the body, then nothing: only the attempt's own timer ends it.
      if (request.url === '/stalled-body') return void response.writeHead(200, { 'content-length': '100' }).write('{"id":');
      if (request.url === '/early-hints') {
        response.writeEarlyHints({ link: '</a.css>; rel=preload; as=style' });
        return void setTimeout(() => response.end('{"id":"e"}'), 300);
      }
      // A 503 whose body (a proxy's page) is far larger than the gateway reads of an error.
      if (request.url === '/big-error') {
        response.writeHead(503, { 'retry-after': '7' });
        response.end(`{"error_code":"SVCSTG.1"}${' '.repeat(1 << 20)}`);
        return;
      }
      setTimeout(() => response.end('{"id":"e"}'), 300);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await agent.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads an answer that came while the loop was busy past the attempt\'s bound: no timeout for the breakers', async () => {
    // The upstream in a process of its own, so that it answers while this one is held.
    const upstream = spawn(process.execPath, ['-e', `require('node:http').createServer((q, s) => setTimeout(() => s.end('{"id":"e"}'), 40))
      .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`]);
    const busy = new Agent();
    try {
      const [port] = (await once(upstream.stdout!, 'data')) as [Buffer];
      const stage = (attemptTimeoutMs: number) =>
        exchangeStage({ dispatcher: busy, origin: `http://127.0.0.1:${String(port).trim()}`, attemptTimeoutMs, maxResponseBytes: 1 << 20, keepText: false });
      await expect(stage(5000)(attemptOf())).resolves.toMatchObject({ ok: true }); // a connection kept alive
      const result = stage(50)(attemptOf());
      await new Promise((resolve) => setTimeout(resolve, 10)); // the request is out; its answer comes in 40 ms
      // Held in the check phase, as a burst of work is: the next turn's timers come before its reads.
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          for (const until = performance.now() + 300; performance.now() < until; );
          resolve();
        }),
      );
      await expect(result).resolves.toMatchObject({ ok: true, answer: { body: { id: 'e' } } });
    } finally {
      await busy.close();
      upstream.kill();
    }
  });

  it('times an attempt out at its own bound (held against the upstream), or cancels it at the operation deadline (not held)', async () => {
    const stage = exchangeStage({ dispatcher: agent, origin, attemptTimeoutMs: 50, maxResponseBytes: 1 << 20, keepText: false });
    await expect(stage(attemptOf())).resolves.toMatchObject({ ok: false, kind: 'timeout' });
    const clipped = exchangeStage({ dispatcher: agent, origin, attemptTimeoutMs: 5000, maxResponseBytes: 1 << 20, keepText: false });
    await expect(clipped(attemptOf({ request: { credentials, deadline: performance.now() + 50 } }))).resolves.toMatchObject({ ok: false, kind: 'cancelled' });
    await expect(clipped(attemptOf())).resolves.toMatchObject({ ok: true, answer: { kind: 'ok', body: { id: 'e' }, bytes: 10 } });
  });

  it('times an attempt out when its body stalls after the headers, and after informational (1xx) answers', async () => {
    const stage = exchangeStage({ dispatcher: agent, origin, attemptTimeoutMs: 100, maxResponseBytes: 1 << 20, keepText: false });
    await expect(stage(attemptOf({ path: '/stalled-body' }))).resolves.toMatchObject({ ok: false, kind: 'timeout', status: 200 });
    await expect(stage(attemptOf({ path: '/early-hints' }))).resolves.toMatchObject({ ok: false, kind: 'timeout', status: undefined });
    const patient = exchangeStage({ dispatcher: agent, origin, attemptTimeoutMs: 5000, maxResponseBytes: 1 << 20, keepText: false });
    await expect(patient(attemptOf({ path: '/early-hints' }))).resolves.toMatchObject({ ok: true, status: 200 });
  });

  it('ends an attempt still queued for a connection when its caller leaves, and never sends it', async () => {
    const pool = new Pool(origin, { connections: 1 });
    try {
      const stage = exchangeStage({ dispatcher: pool, origin, attemptTimeoutMs: 5000, maxResponseBytes: 1 << 20, keepText: false });
      const holding = stage(attemptOf({ path: '/holding' }));
      const caller = new AbortController();
      const queued = stage(attemptOf({ path: '/queued', signal: caller.signal }));
      setTimeout(() => caller.abort(new Error('caller gone')), 20);
      const ended = await Promise.race([queued, holding.then(() => 'the holding call answered first')]);
      expect(ended).toMatchObject({ ok: false, kind: 'cancelled', status: undefined });
      await expect(holding).resolves.toMatchObject({ ok: true });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(received).toContain('/holding');
      expect(received).not.toContain('/queued');
    } finally {
      await pool.close();
    }
  });

  it('keeps the body\'s text on the answer only when asked to (for Redis)', async () => {
    const answerOf = async (keepText: boolean) => {
      const result = await exchangeStage({ dispatcher: agent, origin, attemptTimeoutMs: 5000, maxResponseBytes: 1 << 20, keepText })(attemptOf());
      return result.ok ? result.answer : undefined;
    };
    expect(await answerOf(true)).toMatchObject({ kind: 'ok', body: { id: 'e' }, text: '{"id":"e"}' });
    expect(await answerOf(false)).not.toHaveProperty('text');
  });

  it("is cancelled (not held against the upstream) when the caller's signal aborts, and leaves no listener on it", async () => {
    const stage = exchangeStage({ dispatcher: agent, origin, attemptTimeoutMs: 5000, maxResponseBytes: 1 << 20, keepText: false });
    const caller = new AbortController();
    const remove = jest.spyOn(caller.signal, 'removeEventListener');
    const pending = stage(attemptOf({ signal: caller.signal }));
    setTimeout(() => caller.abort(new Error('caller gone')), 50);
    await expect(pending).resolves.toMatchObject({ ok: false, kind: 'cancelled', retry: false, status: undefined });
    const answered = new AbortController();
    const add = jest.spyOn(answered.signal, 'addEventListener');
    const removed = jest.spyOn(answered.signal, 'removeEventListener');
    await expect(stage(attemptOf({ signal: answered.signal }))).resolves.toMatchObject({ ok: true });
    expect(removed).toHaveBeenCalledWith('abort', add.mock.calls[0]![1]);
    expect(remove).toHaveBeenCalledTimes(1);
    const gone = new AbortController();
    gone.abort(new Error('gone before'));
    await expect(stage(attemptOf({ signal: gone.signal }))).resolves.toMatchObject({ ok: false, kind: 'cancelled' });
  });

  it('classifies an error status by its status, code and Retry-After, reading only the start of a long body', async () => {
    const stage = exchangeStage({ dispatcher: agent, origin, attemptTimeoutMs: 5000, maxResponseBytes: 1 << 20, keepText: false });
    const result = await stage(attemptOf({ path: '/big-error' }));
    expect(result).toMatchObject({ ok: false, kind: 'server', retry: true, status: 503 });
    expect(!result.ok && result.error.extensions).toMatchObject({ retryAfter: 7, upstream: { status: 503, code: 'SVCSTG.1' } });
  });

  it('refuses an answer larger than CSE_MAX_RESPONSE_BYTES as UPSTREAM_BAD_RESPONSE, a failure the breakers do not count', async () => {
    const small = exchangeStage({ dispatcher: agent, origin, attemptTimeoutMs: 5000, maxResponseBytes: 4, keepText: false });
    await expect(small(attemptOf())).resolves.toMatchObject({ ok: false, kind: 'outsized', error: { code: 'UPSTREAM_BAD_RESPONSE' } });
  });
});
