import type { UpstreamAnswer } from '../upstream/exchange';
import { decodeAnswer, encodeAnswer } from './answerCodec';
import type { RedisKeys } from './redisKeys';
import { defineScript, type Script } from './scripts';
import type { RedisLink } from './RedisLink';
import { UNAVAILABLE, type Unavailable } from './unavailable';

export interface SharedAnswersOptions {
  /** CACHE_AUTH_RECHECK_MS: how long one replica's upstream answer vouches for a scope fleet-wide. */
  readonly recheckMs: number;
  /** Longer answers are not written (REDIS_MAX_VALUE_BYTES). */
  readonly maxValueBytes: number;
  /** How long a scope's generation is kept: longer than any answer may live (the longest TTL). */
  readonly generationTtlMs: number;
}

/** What Redis knows of a call: the scope's fleet generation, and a usable answer if it has one. */
export interface SharedLookup {
  readonly generation: string;
  readonly hit: { readonly answer: UpstreamAnswer; readonly ttlLeftMs: number } | undefined;
}

/*
 * KEYS: generation, vouch, answer. An answer is only returned while the scope is vouched for;
 * the generation is returned in every case, for the store that may follow.
 */
const LOOKUP = `
local generation = redis.call('get', KEYS[1]) or '0'
if redis.call('exists', KEYS[2]) == 0 then return {generation, false, 0} end
local answer = redis.call('get', KEYS[3])
if not answer then return {generation, false, 0} end
return {generation, answer, redis.call('pttl', KEYS[3])}
`;

/*
 * KEYS: generation, vouch, answer; ARGV: the generation the caller looked up, the value, its TTL,
 * the vouch's TTL. Nothing is written when the scope was refused since the lookup (its generation
 * moved on): the answer may predate the refusal, and so may the vouch it would renew.
 */
const STORE = `
if (redis.call('get', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
redis.call('set', KEYS[3], ARGV[2], 'PX', ARGV[3])
if tonumber(ARGV[4]) > 0 then redis.call('set', KEYS[2], '1', 'PX', ARGV[4]) end
return 1
`;

/** KEYS: generation, vouch; ARGV: the generation's TTL. */
const FORGET = `
redis.call('incr', KEYS[1])
redis.call('pexpire', KEYS[1], ARGV[1])
redis.call('del', KEYS[2])
return 1
`;

/**
 * The second level of the upstream answer cache, in Redis, behind each replica's own
 * (UpstreamAnswerCache), and the fleet's view of CredentialGate's rule: an answer kept in Redis is
 * served to a scope only while some replica's upstream call accepted that scope within
 * CACHE_AUTH_RECHECK_MS (the `vouch` key, renewed with every answer stored), and only if it was
 * stored since the last time any replica saw the upstream refuse the scope (the `generation`,
 * which a 401 or 403 moves on and which every stored answer is checked against).
 */
export class SharedAnswers {
  private readonly lookupScript: Script;
  private readonly storeScript: Script;
  private readonly forgetScript: Script;

  constructor(
    private readonly link: RedisLink,
    private readonly keys: RedisKeys,
    private readonly options: SharedAnswersOptions,
  ) {
    this.lookupScript = defineScript(link.client, 'gwAnswerLookup', 3, LOOKUP);
    this.storeScript = defineScript(link.client, 'gwAnswerStore', 3, STORE);
    this.forgetScript = defineScript(link.client, 'gwScopeForget', 2, FORGET);
  }

  /** `key` is the call's scope key (see scopeKey): its digest, and the URL. */
  async lookup(digest: string, key: string): Promise<SharedLookup | Unavailable> {
    const reply = await this.link.run('cache-get', (client) => this.lookupScript(client, this.scopeKeys(digest, key), []));
    if (reply === UNAVAILABLE) return UNAVAILABLE;
    const [generation, text, ttlLeftMs] = reply as [string, string | null, number];
    if (typeof text !== 'string' || ttlLeftMs <= 0) return { generation, hit: undefined };
    const decoded = decodeAnswer(text);
    if (decoded === undefined || decoded.record.generation !== generation) return { generation, hit: undefined };
    return { generation, hit: { answer: decoded.answer, ttlLeftMs } };
  }

  /** Keeps an answer the upstream just gave, for `ttlMs`, under the generation the lookup saw. */
  async store(digest: string, key: string, answer: UpstreamAnswer, generation: string, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    const value = encodeAnswer(answer, { generation });
    if (Buffer.byteLength(value) > this.options.maxValueBytes) return;
    await this.link.run('cache-set', (client) =>
      this.storeScript(client, this.scopeKeys(digest, key), [generation, value, ttlMs, this.options.recheckMs]),
    );
  }

  /** The upstream refused the scope: nothing kept for it so far is served again, on any replica. */
  async forget(digest: string): Promise<void> {
    await this.link.run('scope-forget', (client) =>
      this.forgetScript(client, [this.keys.generation(digest), this.keys.vouch(digest)], [this.options.generationTtlMs]),
    );
  }

  private scopeKeys(digest: string, key: string): string[] {
    return [this.keys.generation(digest), this.keys.vouch(digest), this.keys.answer(digest, key)];
  }
}
