import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { RedisKeys } from './redisKeys';
import type { RedisLink } from './RedisLink';
import { UNAVAILABLE } from '../cache/secondLevel';
import type { ValueCipher } from './valueCipher';

/**
 * Entries written without a TTL (Apollo sets none for APQ unless told to) still expire: the APQ
 * registry grows with whatever documents callers register, and Redis should be able to run with
 * `maxmemory-policy volatile-lru` (every gateway key has a TTL). A day: documents in use are
 * registered again on their next miss, at the cost of one round trip for their client.
 */
const DEFAULT_TTL_SECONDS = 24 * 60 * 60;

/**
 * Apollo's KeyValueCache over the replica's Redis connection (what APQ registers documents in):
 * values up to `maxValueBytes` as written (sealed, with REDIS_ENCRYPTION_KEY), every key under
 * REDIS_KEY_PREFIX. Redis failing reads as a miss and a write not made — for APQ, a client told
 * PERSISTED_QUERY_NOT_FOUND sends the document again; so does a value that does not open (sealed
 * with a key this replica does not have, for another key, or damaged).
 */
export class RedisKeyValueCache implements KeyValueCache<string> {
  constructor(
    private readonly link: RedisLink,
    private readonly keys: RedisKeys,
    private readonly maxValueBytes: number,
    private readonly cipher: ValueCipher,
  ) {}

  async get(key: string): Promise<string | undefined> {
    const value = await this.link.run('apq-get', (client) => client.get(this.keys.persistedQuery(key)));
    return value === UNAVAILABLE || value === null ? undefined : this.cipher.open(value, contextOf(key));
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    // Sealing only makes it longer: a document too long as it is is not sealed to find out.
    if (Buffer.byteLength(value) > this.maxValueBytes) return;
    const ttl = options?.ttl ?? DEFAULT_TTL_SECONDS;
    if (ttl <= 0) return;
    const sealed = this.cipher.seal(value, contextOf(key));
    if (Buffer.byteLength(sealed) > this.maxValueBytes) return;
    await this.link.run('apq-set', (client) => client.set(this.keys.persistedQuery(key), sealed, 'PX', Math.ceil(ttl * 1000)));
  }

  async delete(key: string): Promise<boolean> {
    const removed = await this.link.run('apq-delete', (client) => client.del(this.keys.persistedQuery(key)));
    return removed !== UNAVAILABLE && removed > 0;
  }
}

/** What a document is sealed for: its entry (Apollo's key), so it opens under no other. */
function contextOf(key: string): string {
  return `apq:${key}`;
}
