import { UNAVAILABLE, type Lease, type Lookup, type SecondLevel, type SharedCall, type Unavailable } from '../cache/secondLevel';
import type { UpstreamAnswer } from '../upstream/stages/types';
import { decodeAnswer, encodeAnswer } from './answerCodec';
import type { RedisKeys } from './redisKeys';
import { defineScript, RENEW_LEASE, type Script } from './scripts';
import type { RedisLink } from './RedisLink';
import type { ValueCipher } from './valueCipher';

export interface SharedAnswersOptions {
  /** CACHE_AUTH_RECHECK_MS: how long one replica's upstream answer vouches for a scope fleet-wide. */
  readonly recheckMs: number;
  /** Longer answers are neither kept nor handed over (REDIS_MAX_VALUE_BYTES). */
  readonly maxValueBytes: number;
  /** How long a scope's generation is kept: longer than any answer may live (the longest TTL). */
  readonly generationTtlMs: number;
  /** A holder that stops renewing (its replica died) loses the call after this. */
  readonly leaseMs: number;
  /** Seals what is kept and handed over (REDIS_ENCRYPTION_KEY), for the call's scope key. */
  readonly cipher: ValueCipher;
}

/** How long a handed-over answer stays for the waiters to read: a few polls, an event-loop stall. */
const HANDOVER_TTL_MS = 500;

/** A call's Redis keys — generation, vouch, answer, lease — and its handovers' prefix, made once per call. */
export interface RedisCall extends SharedCall {
  readonly keys: readonly [string, string, string, string];
  readonly handover: string;
}

/*
 * KEYS: generation, vouch, answer, lease, the handover of the holder last seen. ARGV: lease token,
 * lease TTL, 1 if answers are kept. One round trip on a miss: a kept answer of the current
 * generation (`<generation>\n<value>`) while the scope is vouched for; else the awaited holder's
 * answer; else the lease if nobody holds it; else who holds it.
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
 * KEYS: generation, vouch, answer, lease, the holder's handover. ARGV: token ('' without a lease),
 * the generation the call began under, the value, 1 to keep it, its TTL, the vouch's TTL, the
 * handover's TTL. Keeps the answer (and vouches) only if the scope was not refused since the call
 * began; else hands it over; releases the lease if still ours. Atomic: an asker finds the lease or
 * the answer, never neither.
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

/** KEYS: generation, vouch; ARGV: the generation's TTL. */
const FORGET = `
redis.call('incr', KEYS[1])
redis.call('pexpire', KEYS[1], ARGV[1])
redis.call('del', KEYS[2])
return 1
`;

/** What a handover holds when the holder's call failed or its answer was too large to hand over. */
const NO_ANSWER = 'none';

/**
 * The upstream answer cache's second level in Redis: each step is one Lua script, so a miss costs
 * two round trips ({@link lookup}, {@link settle}). Kept answers follow CredentialGate's rule fleet-wide:
 * served only while some replica's call accepted the scope within CACHE_AUTH_RECHECK_MS (the vouch)
 * and if kept since the upstream last refused it (the generation, moved on by {@link forget}).
 */
export class SharedAnswers implements SecondLevel<UpstreamAnswer> {
  private readonly lookupScript: Script;
  private readonly settleScript: Script;
  private readonly renewScript: Script;
  private readonly forgetScript: Script;

  constructor(
    private readonly link: RedisLink,
    private readonly keys: RedisKeys,
    private readonly options: SharedAnswersOptions,
  ) {
    this.lookupScript = defineScript(link.client, 'gwAnswerLookup', 5, LOOKUP);
    this.settleScript = defineScript(link.client, 'gwAnswerSettle', 5, SETTLE);
    this.renewScript = defineScript(link.client, 'gwLeaseRenew', 1, RENEW_LEASE);
    this.forgetScript = defineScript(link.client, 'gwScopeForget', 2, FORGET);
  }

  get leaseMs(): number {
    return this.options.leaseMs;
  }

  call(digest: string, key: string, cacheable: boolean): RedisCall {
    const { keys } = this;
    return {
      key,
      cacheable,
      keys: [keys.generation(digest), keys.vouch(digest), keys.answer(digest, key), keys.lease(digest, key)],
      handover: keys.handover(digest, key),
    };
  }

  /** A value that does not decode reads as a handover without an answer: the caller makes the call. */
  async lookup(call: RedisCall, token: string, holder: string | undefined): Promise<Lookup<UpstreamAnswer> | Unavailable> {
    const keys = [...call.keys, `${call.handover}:${holder ?? '-'}`];
    const reply = await this.link.run('answer-lookup', (client) => this.lookupScript(client, keys, [token, this.options.leaseMs, call.cacheable ? 1 : 0]));
    if (reply === UNAVAILABLE) return UNAVAILABLE;
    const [state, generation, value, ttlLeftMs, acceptedLeftMs = 0] = reply as [string, string, string | null, number, number?];
    if (state === 'lease') return { state, lease: { token, generation } };
    if (state === 'wait') return { state, holder: typeof value === 'string' ? value : '' };
    const text = typeof value === 'string' ? value : undefined;
    if (state === 'hit') {
      const answer = text === undefined ? undefined : this.open(call, text.slice(text.indexOf('\n') + 1));
      return answer !== undefined && ttlLeftMs > 0 ? { state, answer, ttlLeftMs, acceptedLeftMs } : { state: 'handed', answer: undefined };
    }
    return { state: 'handed', answer: text === undefined || text === NO_ANSWER ? undefined : this.open(call, text) };
  }

  async generation(digest: string): Promise<Lease | Unavailable> {
    const reply = await this.link.run('answer-generation', (client) => client.get(this.keys.generation(digest)));
    return reply === UNAVAILABLE ? UNAVAILABLE : { token: '', generation: reply ?? '0' };
  }

  async settle(call: RedisCall, lease: Lease, answer: UpstreamAnswer | undefined, ttlMs: number): Promise<void> {
    const keepable = answer?.kind === 'ok' && ttlMs > 0;
    // Without a lease (a fresh poll) nobody waits: unless it is kept, nothing to say.
    if (lease.token === '' && !keepable) return;
    const encoded = answer === undefined ? undefined : this.options.cipher.seal(encodeAnswer(answer), call.key);
    const fits = encoded !== undefined && Buffer.byteLength(encoded) <= this.options.maxValueBytes;
    const keep = fits && keepable ? 1 : 0;
    const keys = [...call.keys, `${call.handover}:${lease.token}`];
    await this.link.run('answer-settle', (client) =>
      this.settleScript(client, keys, [lease.token, lease.generation, fits ? encoded : NO_ANSWER, keep, Math.max(1, ttlMs), this.options.recheckMs, HANDOVER_TTL_MS]),
    );
  }

  async renew(call: RedisCall, lease: Lease): Promise<void> {
    await this.link.run('lease-renew', (client) => this.renewScript(client, [call.keys[3]], [lease.token, this.options.leaseMs]));
  }

  async forget(digest: string): Promise<void> {
    await this.link.run('scope-forget', (client) =>
      this.forgetScript(client, [this.keys.generation(digest), this.keys.vouch(digest)], [this.options.generationTtlMs]),
    );
  }

  private open(call: RedisCall, value: string): UpstreamAnswer | undefined {
    const plain = this.options.cipher.open(value, call.key);
    return plain === undefined ? undefined : decodeAnswer(plain);
  }

}
