import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { RedisKeys } from './redisKeys';
import type { RedisLink } from './RedisLink';
import { UNAVAILABLE } from '../cache/secondLevel';
import type { ValueCipher } from './valueCipher';

/** Entries written without a TTL still expire (every gateway key has one: `volatile-lru` works). */
const DEFAULT_TTL_SECONDS = 24 * 60 * 60;

/**
 * Apollo's KeyValueCache in Redis (the APQ registry's second level). Redis failing, or a value that
 * does not open, reads as a miss: the client is told PERSISTED_QUERY_NOT_FOUND and sends it again.
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

function contextOf(key: string): string {
  return `apq:${key}`;
}
