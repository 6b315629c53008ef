import { UNAVAILABLE, type Lookup, type SecondLevel, type SharedCall } from '../cache/secondLevel';
import { parseUpstreamBody } from '../upstream/parseJson';
import type { UpstreamAnswer } from '../upstream/stages/types';
import type { RedisLink } from './RedisLink';

export interface SharedAnswersOptions {
  /** CACHE_AUTH_RECHECK_MS: how long one replica's upstream answer vouches for a scope fleet-wide. */
  readonly recheckMs: number;
  /** Longer than any answer may live. */
  readonly generationTtlMs: number;
  /** Longer than any call may run (REQUEST_TIMEOUT_MS and a lease): a refused scope with no answer kept. */
  readonly refusalTtlMs: number;
  /** A holder that stops renewing (its replica died) loses the call after this. */
  readonly leaseMs: number;
}

/** For the waiters to read: a few polls, an event-loop stall. */
const HANDOVER_TTL_MS = 500;

/** Keys made once per call: generation, vouch, answer, lease; and its handovers' prefix. */
export interface RedisCall extends SharedCall {
  readonly keys: readonly [string, string, string, string];
  readonly handover: string;
}

export type SharedAnswers = SecondLevel<UpstreamAnswer, RedisCall>;

// KEYS: generation, vouch, answer, lease, the handover of the holder last seen. ARGV: lease token,
// lease TTL, 1 if answers are kept. A kept answer is `<generation>\n<value>`.
const LOOKUP = `
local generation = redis.call('get', KEYS[1]) or '0'
local vouch = ARGV[3] == '1' and redis.call('get', KEYS[2])
local kept = vouch and redis.call('get', KEYS[3])
if kept then
  local sep = string.find(kept, '\\n', 1, true)
  if sep and string.sub(kept, 1, sep - 1) == generation then
    return {'hit', generation, kept, redis.call('pttl', KEYS[3]), redis.call('pttl', KEYS[2]), vouch}
  end
end
local handed = redis.call('get', KEYS[5])
if handed then return {'handed', generation, handed, 0} end
local holder = redis.call('get', KEYS[4])
if not holder then
  redis.call('set', KEYS[4], ARGV[1], 'PX', ARGV[2])
  return {'lease', generation, false, 0}
end
return {'wait', generation, holder, 0}
`;

// KEYS: as LOOKUP's, the holder's handover last. ARGV: token ('' without a lease), the generation the
// call began under, the value, 1 to keep it, its TTL, the vouch ('' for none), its TTL, the handover's
// TTL. Keeping and releasing are one step: an asker finds the lease or the answer, never neither.
// Returns 0 when the generation moved on since the call began: a refusal it did not see (not when
// the counter expired: that is no refusal).
// ARGV[9]: the generation's TTL, renewed with every answer kept: a scope with answers has its counter.
const SETTLE = `
local stored = redis.call('get', KEYS[1])
local current = (stored or '0') == ARGV[2]
if current and ARGV[6] ~= '' then redis.call('set', KEYS[2], ARGV[6], 'PX', ARGV[7]) end
local readable = false
if ARGV[4] == '1' and current then
  redis.call('set', KEYS[3], ARGV[2] .. '\\n' .. ARGV[3], 'PX', ARGV[5])
  redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[9])
  readable = true
end
if ARGV[1] ~= '' then
  if not readable then redis.call('set', KEYS[5], ARGV[3], 'PX', ARGV[8]) end
  if redis.call('get', KEYS[4]) == ARGV[1] then redis.call('del', KEYS[4]) end
end
return (current or not stored) and 1 or 0
`;

// KEYS: vouch, generation. ARGV: the generation's TTL where answers may be kept under the one before,
// and where none are. One step: a settle between the two would vouch for the scope again. The vouch
// first: a DEL is allowed when Redis is out of memory, and the script is checked only up to its first
// write. A scope without a counter has none kept (SETTLE makes it): its refusal need only outlive the
// calls in flight, so made-up tokens' refusals leave short-lived keys. Returns 1 if it was vouched for.
const REFUSE = `
local vouched = redis.call('del', KEYS[1])
local known = redis.call('exists', KEYS[2])
redis.call('incr', KEYS[2])
redis.call('pexpire', KEYS[2], known == 1 and ARGV[1] or ARGV[2])
return vouched
`;

/** Long enough for replicas whose clocks differ by seconds to open it. */
const REFUSAL_LIFE_MS = 60_000;

/** A scope's digest, as `credentialDigest` writes it. */
const DIGEST = /^[0-9a-f]{64}$/;

/** The holder's call failed, or its answer was too large to hand over; it opens as no answer. */
const NO_ANSWER = 'none';

/** CredentialGate's rule, fleet-wide: the vouch is its acceptance, the generation its refusals. */
export function sharedAnswers(link: RedisLink, options: SharedAnswersOptions): SharedAnswers {
  const { keys } = link;
  const refusals = keys.refusals();
  /** Another replica's refusal as it publishes it; its own, or anything else, is none. */
  const refusedDigest = (text: string | undefined) => {
    try {
      const { from, digest } = JSON.parse(text ?? '') as Record<string, unknown>;
      return from !== link.replica && typeof digest === 'string' && DIGEST.test(digest) ? digest : undefined;
    } catch {
      return undefined;
    }
  };
  const lookup = link.script('gwAnswerLookup', 5, LOOKUP);
  const settle = link.script('gwAnswerSettle', 5, SETTLE);
  const refuse = link.script('gwScopeRefuse', 2, REFUSE);
  // With REDIS_ENCRYPTION_KEY, bound to its key and generation and sealed with its expiry: what a writer
  // without the key moves, puts back or keeps longer does not open.
  const seal = (text: string, key: string, generation: string, lifeMs: number) =>
    link.seal(text, `${key}\n${generation}`, lifeMs);
  // What does not open, has expired or does not decode reads as no answer.
  const open = (value: string | null | undefined, key: string, generation: string) =>
    link.openLiving(value, `${key}\n${generation}`);
  /**
   * A kept answer that no longer reads (past its sealed life or its last millisecond, or not this
   * version's) is none: the lookup is made again past it, for the lease, so one replica calls.
   */
  const look = async (call: RedisCall, token: string, holder: string | undefined, readKept: boolean): Promise<Lookup<UpstreamAnswer> | typeof UNAVAILABLE> => {
    const handover = `${call.handover}:${holder ?? '-'}`;
    const reply = await lookup('answer-lookup', [...call.keys, handover], [token, options.leaseMs, readKept ? 1 : 0]);
    if (reply === UNAVAILABLE) return UNAVAILABLE;
    type Reply = [string, string, string | null, number, number?, string?];
    const [state, generation, value, keptMs, vouchMs = 0, vouch] = reply as Reply;
    if (state === 'lease') return { state, lease: { token, generation } };
    if (state === 'wait') return { state, holder: value ?? '' };
    if (state !== 'hit') {
      const handed = open(value, handover, generation);
      return { state: 'handed', answer: handed && (await decodeAnswer(handed.text, call.caller)) };
    }
    const kept = open(value?.slice(value.indexOf('\n') + 1), call.keys[2], generation);
    const vouched = open(vouch, call.keys[1], generation);
    if (kept && vouched && keptMs > 0) {
      const answer = await decodeAnswer(kept.text, call.caller);
      // Neither is served past what was sealed with it, whatever TTL a writer gave its key.
      const left = { ttlLeftMs: Math.min(keptMs, kept.leftMs), acceptedLeftMs: Math.min(vouchMs, vouched.leftMs) };
      if (answer !== undefined) return { state, answer, ...left };
    }
    return look(call, token, holder, false);
  };
  return {
    call: (digest, key, cacheable, caller) => ({
      key,
      cacheable,
      caller,
      keys: [keys.generation(digest), keys.vouch(digest), keys.answer(digest, key), keys.lease(digest, key)],
      handover: keys.handover(digest, key),
    }),
    lookup: (call, token, holder) => look(call, token, holder, call.cacheable),
    async generation(digest) {
      const reply = await link.run('answer-generation', (client) => client.get(keys.generation(digest)));
      return reply === UNAVAILABLE ? UNAVAILABLE : { token: '', generation: reply ?? '0' };
    },
    async settle(call, lease, answer, ttlMs) {
      // Any answer vouches for the scope, kept or not (too large, a poll's): a replica may serve it
      // from memory now, so a refusal seen later must be told to the fleet (forget).
      const vouched = answer !== undefined && options.recheckMs > 0;
      // Kept where a lookup may serve it (with a vouch), or else handed to the holder's waiters alone.
      const kept = vouched && answer.kind === 'ok' && ttlMs > 0;
      const waited = lease.token !== '';
      // Without a lease (a fresh poll) nobody waits: the vouch, and what is kept, to say.
      if (!waited && !vouched) return true;
      const handover = `${call.handover}:${lease.token}`;
      const [key, lifeMs] = kept ? [call.keys[2], Math.max(1, ttlMs)] : [handover, HANDOVER_TTL_MS];
      const { generation } = lease;
      const told = answer !== undefined && (kept || waited);
      const sealed = told ? seal(encodeAnswer(answer), key, generation, lifeMs) : undefined;
      const vouch = vouched ? seal('1', call.keys[1], generation, options.recheckMs) : '';
      // SETTLE's ARGV, in its order.
      const keep = sealed !== undefined && kept ? 1 : 0;
      const argv = [lease.token, generation, sealed ?? NO_ANSWER, keep, lifeMs, vouch ?? ''];
      const current = await settle('answer-settle', [...call.keys, handover], [...argv, options.recheckMs, HANDOVER_TTL_MS, options.generationTtlMs]);
      return current !== 0;
    },
    hold: (call, lease) => link.hold('lease-renew', call.keys[3], lease.token, options.leaseMs),
    async forget(digest) {
      const dropped = await refuse('scope-forget', [keys.vouch(digest), keys.generation(digest)], [options.generationTtlMs, options.refusalTtlMs]);
      // Only a scope some replica vouched for recently may be served from memory anywhere: made-up
      // tokens' refusals are not told to the fleet.
      const vouched = dropped === 1;
      // Sealed with a life: a Redis writer without the key can neither forge nor replay one later.
      const refusal = vouched ? link.seal(JSON.stringify({ from: link.replica, digest }), refusals, REFUSAL_LIFE_MS) : undefined;
      if (refusal !== undefined) await link.run('scope-forget', (client) => client.publish(refusals, refusal));
    },
    onForget(refused) {
      void link.listen(refusals, (text) => {
        const digest = refusedDigest(link.openLiving(text, refusals)?.text);
        if (digest !== undefined) refused(digest);
      });
    },
  };
}

/** A JSON header line, then an "ok" answer's body as the upstream sent it (not serialised again). */
export function encodeAnswer(answer: UpstreamAnswer): string {
  if (answer.kind === 'not-found') return JSON.stringify({ kind: 'not-found', upstream: answer.upstream });
  const header = JSON.stringify({ kind: 'ok', requestId: answer.requestId ?? null, bytes: answer.bytes });
  return `${header}\n${answer.text ?? JSON.stringify(answer.body)}`;
}

export async function decodeAnswer(text: string, caller?: string): Promise<UpstreamAnswer | undefined> {
  const end = text.indexOf('\n');
  try {
    const header = JSON.parse(end < 0 ? text : text.slice(0, end)) as Record<string, unknown> | null;
    if (header?.kind === 'ok' && typeof header.bytes === 'number' && end >= 0) {
      const requestId = typeof header.requestId === 'string' ? header.requestId : undefined;
      return { kind: 'ok', body: await parseUpstreamBody(text.slice(end + 1), caller), requestId, bytes: header.bytes };
    }
    const { upstream } = header ?? {};
    if (header?.kind === 'not-found' && end < 0 && typeof upstream === 'object' && upstream !== null) {
      return { kind: 'not-found', upstream };
    }
  } catch {
    // Not this version's: no answer, never a wrong one.
  }
  return undefined;
}
