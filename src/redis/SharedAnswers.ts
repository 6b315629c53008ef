import { UNAVAILABLE, type Lookup, type SecondLevel, type SharedCall } from '../cache/secondLevel';
import { parseUpstreamBody } from '../upstream/parseJson';
import type { UpstreamAnswer } from '../upstream/stages/types';
import type { RedisLink } from './RedisLink';

export interface SharedAnswersOptions {
  /** CACHE_AUTH_RECHECK_MS: how long one replica's upstream answer vouches for a scope fleet-wide. */
  readonly recheckMs: number;
  /** Longer than any answer may live. */
  readonly generationTtlMs: number;
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

/*
 * KEYS: generation, vouch, answer, lease, the handover of the holder last seen. ARGV: lease token,
 * lease TTL, 1 if answers are kept. A kept answer is `<generation>\n<value>`.
 */
const LOOKUP = `
local generation = redis.call('get', KEYS[1]) or '0'
if ARGV[3] == '1' and redis.call('exists', KEYS[2]) == 1 then
  local kept = redis.call('get', KEYS[3])
  if kept then
    local sep = string.find(kept, '\\n', 1, true)
    if sep and string.sub(kept, 1, sep - 1) == generation then
      return {'hit', generation, kept, redis.call('pttl', KEYS[3]), redis.call('pttl', KEYS[2])}
    end
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

/*
 * KEYS: as LOOKUP's, the holder's handover last. ARGV: token ('' without a lease), the generation the
 * call began under, the value, 1 to keep it, its TTL, the vouch's TTL, the handover's TTL. Keeping
 * and releasing are one step: an asker finds the lease or the answer, never neither.
 */
const SETTLE = `
local readable = false
if ARGV[4] == '1' and (redis.call('get', KEYS[1]) or '0') == ARGV[2] then
  redis.call('set', KEYS[3], ARGV[2] .. '\\n' .. ARGV[3], 'PX', ARGV[5])
  if tonumber(ARGV[6]) > 0 then
    redis.call('set', KEYS[2], '1', 'PX', ARGV[6])
    readable = true
  end
end
if ARGV[1] ~= '' then
  if not readable then redis.call('set', KEYS[5], ARGV[3], 'PX', ARGV[7]) end
  if redis.call('get', KEYS[4]) == ARGV[1] then redis.call('del', KEYS[4]) end
end
return 1
`;

/** The holder's call failed, or its answer was too large to hand over. */
const NO_ANSWER = 'none';

/** CredentialGate's rule, fleet-wide: the vouch is its acceptance, the generation its refusals. */
export function sharedAnswers(link: RedisLink, options: SharedAnswersOptions): SharedAnswers {
  const { keys } = link;
  const lookup = link.script('gwAnswerLookup', 5, LOOKUP);
  const settle = link.script('gwAnswerSettle', 5, SETTLE);
  // A value that does not open or decode reads as no answer: the caller makes the call.
  const open = async (call: RedisCall, value: string | undefined) => {
    const plain = value === undefined || value === NO_ANSWER ? undefined : link.cipher.open(value, call.key);
    return plain === undefined ? undefined : decodeAnswer(plain);
  };
  return {
    call: (digest, key, cacheable) => ({
      key,
      cacheable,
      keys: [keys.generation(digest), keys.vouch(digest), keys.answer(digest, key), keys.lease(digest, key)],
      handover: keys.handover(digest, key),
    }),
    async lookup(call, token, holder) {
      const callKeys = [...call.keys, `${call.handover}:${holder ?? '-'}`];
      const reply = await lookup('answer-lookup', callKeys, [token, options.leaseMs, call.cacheable ? 1 : 0]);
      if (reply === UNAVAILABLE) return UNAVAILABLE;
      const [state, generation, value, ttlLeftMs, acceptedLeftMs = 0] = reply as [string, string, string | null, number, number?];
      if (state === 'lease') return { state, lease: { token, generation } };
      if (state === 'wait') return { state, holder: value ?? '' };
      if (state === 'hit') {
        const answer = await open(call, value?.slice(value.indexOf('\n') + 1));
        if (answer !== undefined && ttlLeftMs > 0) return { state, answer, ttlLeftMs, acceptedLeftMs };
        return { state: 'handed', answer: undefined };
      }
      return { state: 'handed', answer: await open(call, value ?? undefined) };
    },
    async generation(digest) {
      const reply = await link.run('answer-generation', (client) => client.get(keys.generation(digest)));
      return reply === UNAVAILABLE ? UNAVAILABLE : { token: '', generation: reply ?? '0' };
    },
    async settle(call, lease, answer, ttlMs) {
      const keepable = answer?.kind === 'ok' && ttlMs > 0;
      // Without a lease (a fresh poll) nobody waits: unless it is kept, nothing to say.
      if (lease.token === '' && !keepable) return;
      const sealed = answer === undefined ? undefined : link.seal(encodeAnswer(answer), call.key);
      const args = [lease.token, lease.generation, sealed ?? NO_ANSWER, sealed !== undefined && keepable ? 1 : 0];
      const ttls = [Math.max(1, ttlMs), options.recheckMs, HANDOVER_TTL_MS];
      await settle('answer-settle', [...call.keys, `${call.handover}:${lease.token}`], [...args, ...ttls]);
    },
    hold: (call, lease) => link.hold('lease-renew', call.keys[3], lease.token, options.leaseMs),
    async forget(digest) {
      const generation = keys.generation(digest);
      await link.run('scope-forget', (client) =>
        client.multi().incr(generation).pexpire(generation, options.generationTtlMs).del(keys.vouch(digest)).exec(),
      );
    },
  };
}

/** A JSON header line, then an "ok" answer's body as the upstream sent it (not serialised again). */
export function encodeAnswer(answer: UpstreamAnswer): string {
  if (answer.kind === 'not-found') return JSON.stringify({ kind: 'not-found', upstream: answer.upstream });
  const header = JSON.stringify({ kind: 'ok', requestId: answer.requestId ?? null, bytes: answer.bytes });
  return `${header}\n${answer.text ?? JSON.stringify(answer.body)}`;
}

export async function decodeAnswer(text: string): Promise<UpstreamAnswer | undefined> {
  const end = text.indexOf('\n');
  try {
    const header = JSON.parse(end < 0 ? text : text.slice(0, end)) as Record<string, unknown> | null;
    if (header?.kind === 'ok' && typeof header.bytes === 'number' && end >= 0) {
      const requestId = typeof header.requestId === 'string' ? header.requestId : undefined;
      return { kind: 'ok', body: await parseUpstreamBody(text.slice(end + 1)), requestId, bytes: header.bytes };
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
