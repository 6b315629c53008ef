import { ErrorCode } from '../../src/errors/codes';
import { GatewayError } from '../../src/errors/GatewayError';
import { CredentialGate, type ProbeRound } from '../../src/upstream/CredentialGate';
import { classifyFailure, credentialVerdictOf, type Failure } from '../../src/upstream/errorMapping';
import type { CallRequest, UpstreamAnswer } from '../../src/upstream/stages/types';

/** The upstream's answer, as the failure classifier turns it into an error. */
const refusedWith = (status: number) =>
  (classifyFailure({ status, headers: {}, body: '{"error_code":"APIG.0301"}' }) as Failure).error;

function setUp(overrides: { rejectionTtlMs?: number; recheckMs?: number; maxStrangers?: number; maxScopesPerCaller?: number } = {}) {
  let now = 0;
  const gate = new CredentialGate({ rejectionTtlMs: 1000, recheckMs: 5000, maxScopes: 100, now: () => now, ...overrides });
  return { gate, advance: (ms: number) => (now += ms) };
}

const never = new AbortController().signal;
/** A scope that is its own caller (one project per token). */
const alone = (digest: string) => ({ digest, caller: digest });
const flush = () => new Promise((resolve) => setImmediate(resolve));
/** How a call was let through: as a probe, or at once since the upstream answered the scope recently. */
const kindOf = (round: ProbeRound | undefined) => (round === undefined ? 'answered recently' : 'probe');

describe('CredentialGate', () => {
  it('lets the first call of an unknown scope probe and holds the others until it is answered', async () => {
    const { gate } = setUp();
    const probe = await gate.admit('s', never);
    expect(kindOf(probe)).toBe('probe');
    const order: string[] = [];
    const waiting = [gate.admit('s', never), gate.admit('s', never)].map((p) => p.then((c) => (order.push(kindOf(c)), c)));
    await flush();
    expect(order).toEqual([]);
    expect((gate.generation('s') !== undefined)).toBe(false);
    gate.settle(alone('s'), probe);
    await Promise.all(waiting);
    expect(order).toEqual(['answered recently', 'answered recently']);
    expect((gate.generation('s') !== undefined)).toBe(true);
  });

  it('turns away every call that waited for a probe refused with a 401, with its error', async () => {
    const { gate } = setUp();
    const probe = await gate.admit('s', never);
    const waiters = [gate.admit('s', never), gate.admit('s', never)];
    const error = refusedWith(401);
    gate.settle(alone('s'), probe, error);
    for (const waiter of waiters) await expect(waiter).rejects.toBe(error);
  });

  it('lets the waiters of a probe denied one resource (a 403) go at once: no verdict against the credentials', async () => {
    const { gate } = setUp();
    const probe = await gate.admit('s', never);
    const generation = gate.currentGeneration('s');
    const waiters = [gate.admit('s', never), gate.admit('s', never)];
    gate.settle(alone('s'), probe, refusedWith(403));
    expect(await Promise.all(waiters)).toEqual([undefined, undefined]);
    expect(gate.rejection('s')).toBeUndefined();
    expect(gate.generation('s')).toBe(generation);
  });

  it('remembers a 401 for rejectionTtlMs, a 403 not at all', async () => {
    const { gate, advance } = setUp();
    const unauthorized = refusedWith(401);
    gate.settle(alone('a'), await gate.admit('a', never), unauthorized);
    expect(gate.rejection('a')).toBe(unauthorized);
    await expect(gate.admit('a', never)).rejects.toBe(unauthorized);
    advance(999);
    expect(gate.rejection('a')).toBe(unauthorized);
    advance(2);
    expect(gate.rejection('a')).toBeUndefined();
    expect(kindOf(await gate.admit('a', never))).toBe('probe');

    gate.settle(alone('b'), await gate.admit('b', never), refusedWith(403));
    expect(gate.rejection('b')).toBeUndefined();
    expect(await gate.admit('b', never)).toBeUndefined();
  });

  it('takes a scope as accepted only within recheckMs of its last answer, and not after a 401, with a new generation', async () => {
    const { gate, advance } = setUp();
    gate.settle(alone('s'), await gate.admit('s', never));
    advance(5000);
    expect((gate.generation('s') !== undefined)).toBe(true);
    advance(1);
    expect((gate.generation('s') !== undefined)).toBe(false);
    // Once more through a probe; a 403 on any call leaves it as it is, a 401 ends it at once.
    gate.settle(alone('s'), await gate.admit('s', never));
    const generation = gate.generation('s');
    gate.settle(alone('s'), await gate.admit('s', never), refusedWith(403));
    expect(gate.generation('s')).toBe(generation);
    gate.settle(alone('s'), await gate.admit('s', never), refusedWith(401));
    expect((gate.generation('s') !== undefined)).toBe(false);
    expect(gate.currentGeneration('s')).not.toBe(generation);
  });

  it('does not take a scope as accepted again for an answer begun before a 401 of it, through the stage', async () => {
    const { gate } = setUp();
    gate.settle(alone('s'), await gate.admit('s', never));
    const pending: Array<{ resolve: (answer: UpstreamAnswer) => void; reject: (error: unknown) => void }> = [];
    const next = () => new Promise<UpstreamAnswer>((resolve, reject) => void pending.push({ resolve, reject }));
    const call = gate.stage()(next);
    const request = { digest: 's', signal: undefined } as unknown as CallRequest;
    const slow = call(request);
    const refused = call(request);
    await flush();
    pending[1]!.reject(refusedWith(401));
    await expect(refused).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    pending[0]!.resolve({ kind: 'ok', body: {}, requestId: undefined, bytes: 2 });
    await slow;
    // Not taken as accepted (no cached answer is served to the scope); the next call asks the upstream.
    expect(gate.generation('s')).toBeUndefined();
    expect(kindOf(await gate.admit('s', never))).toBe('probe');
  });

  it('tells its listeners when a scope stops being a stranger, once, and an answer stands whatever a listener throws', async () => {
    const { gate, advance } = setUp();
    const told: string[] = [];
    gate.onAccepted(() => {
      throw new Error('a listener bug');
    });
    gate.onAccepted((digest) => told.push(digest));
    const call = gate.stage()(async () => ({ kind: 'ok', body: { fine: true }, requestId: undefined, bytes: 2 }));
    const request = { digest: 's', signal: undefined } as unknown as CallRequest;
    await expect(call(request)).resolves.toMatchObject({ body: { fine: true } });
    await call(request);
    advance(6000);
    await call(request);
    expect(told).toEqual(['s']);
    expect(gate.stranger('s')).toBe(false);
  });

  it('takes another replica\'s acceptance for as long as it has left, but not over a refusal seen here since, nor a remembered 401', async () => {
    const { gate, advance } = setUp();
    const scope = gate.currentGeneration('s');
    expect(gate.generation('s')).toBeUndefined();
    gate.acceptedElsewhere(alone('s'), 2000, scope);
    expect(gate.generation('s')).toBe(scope);
    expect(await gate.admit('s', never)).toBeUndefined();
    advance(2001);
    expect((gate.generation('s') !== undefined)).toBe(false);
    // Never longer than one's own acceptance would last.
    gate.acceptedElsewhere(alone('s'), 60_000, scope);
    advance(5000);
    expect((gate.generation('s') !== undefined)).toBe(true);
    advance(1);
    expect((gate.generation('s') !== undefined)).toBe(false);

    // Refused here after the fleet was asked (a 401 not remembered): the older news does not overrule it.
    const forgetful = setUp({ rejectionTtlMs: 0 }).gate;
    const asked = forgetful.currentGeneration('t');
    forgetful.settle(alone('t'), await forgetful.admit('t', never), refusedWith(401));
    forgetful.acceptedElsewhere(alone('t'), 2000, asked);
    expect((forgetful.generation('t') !== undefined)).toBe(false);
    // A remembered 401 is not overruled either, whatever the generation.
    const probe401 = await gate.admit('u', never);
    gate.settle(alone('u'), probe401, refusedWith(401));
    gate.acceptedElsewhere(alone('u'), 2000, gate.currentGeneration('u'));
    expect((gate.generation('u') !== undefined)).toBe(false);
  });

  it('without a verdict (a 5xx), lets the next waiter probe, one at a time', async () => {
    const { gate } = setUp();
    const first = await gate.admit('s', never);
    const second = gate.admit('s', never);
    const third = gate.admit('s', never);
    gate.settle(alone('s'), first, refusedWith(503));
    const kinds = await Promise.race([second.then((c) => ['second', c] as const), third.then((c) => ['third', c] as const)]);
    expect(kindOf(kinds[1])).toBe('probe');
    let other = false;
    void (kinds[0] === 'second' ? third : second).then(() => (other = true));
    await flush();
    expect(other).toBe(false);
    gate.settle(alone('s'), kinds[1]);
    await flush();
    expect(other).toBe(true);
  });

  it('stops a waiter whose signal aborts, with its reason', async () => {
    const { gate } = setUp();
    await gate.admit('s', never);
    const controller = new AbortController();
    const waiting = gate.admit('s', controller.signal);
    controller.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
  });

  it('lets the waiters of a probe go even when its scope was forgotten meanwhile (bounded memory)', async () => {
    const { gate } = setUp({ maxStrangers: 2 });
    const probe = await gate.admit('s', never);
    const waiting = gate.admit('s', never);
    // Two other scopes push `s` out of the LRU while its probe is in flight.
    await gate.admit('x', never);
    await gate.admit('y', never);
    gate.settle(alone('s'), probe);
    await expect(waiting).resolves.toBeUndefined();
  });

  it("keeps a caller's share of the accepted scopes: one token's many projects push out only each other", async () => {
    const { gate } = setUp({ maxStrangers: 4, maxScopesPerCaller: 2 });
    const accept = async (digest: string, caller: string) => gate.settle({ digest, caller }, await gate.admit(digest, never));
    await accept('victim', 'v');
    for (let project = 0; project < 150; project += 1) await accept(`made-up project ${project}`, 'attacker');
    // The attacker's first two stay among the accepted; the others were accepted and kept among the strangers'.
    expect(['victim', 'made-up project 0', 'made-up project 1'].map((d) => gate.generation(d) !== undefined)).toEqual([true, true, true]);
    expect(gate.generation('made-up project 149')).toBeDefined();
    expect(gate.generation('made-up project 100')).toBeUndefined();
    // The victim's other project is accepted, past the attacker's hundred and fifty.
    await accept('victim elsewhere', 'v');
    for (let project = 150; project < 200; project += 1) await accept(`made-up project ${project}`, 'attacker');
    expect(gate.stranger('victim elsewhere')).toBe(false);
  });
});

describe('a refusal of the credentials (the classifier\'s verdict)', () => {
  it.each([
    [refusedWith(401), true],
    // A 403 denies one resource, not the credentials.
    [refusedWith(403), false],
    [new GatewayError(ErrorCode.UNAUTHENTICATED, 'no token'), false],
    // Made by hand, not from an upstream answer: no verdict, whatever it says.
    [new GatewayError(ErrorCode.FORBIDDEN, 'x', { upstream: { status: 401 } }), false],
    [new GatewayError(ErrorCode.UPSTREAM_ERROR, 'x', { upstream: { status: 403 } }), false],
    [new GatewayError(ErrorCode.UNAUTHENTICATED, 'x', { upstream: { status: 401 } }), false],
    [refusedWith(400), false],
    [new Error('x'), false],
  ])('%#', (error, expected) => {
    expect(credentialVerdictOf(error) === 'refused').toBe(expected);
  });
});
