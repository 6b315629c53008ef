import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import { UNAVAILABLE } from '../cache/secondLevel';
import type { RedisLink } from './RedisLink';

/** Entries written without a TTL still expire (every gateway key has one: `volatile-lru` works). */
const DEFAULT_TTL_SECONDS = 24 * 60 * 60;

/** The APQ registry behind the replica's own; Redis failing, or a value that does not open, is a miss. */
export class RedisKeyValueCache implements KeyValueCache<string> {
  constructor(private readonly link: RedisLink, private readonly local: KeyValueCache<string>) {}

  async get(key: string): Promise<string | undefined> {
    const near = await this.local.get(key);
    if (near !== undefined) return near;
    const value = await this.link.run('apq-get', (client) => client.get(this.link.keys.persistedQuery(key)));
    const far = value === UNAVAILABLE || value === null ? undefined : this.link.cipher.open(value, `apq:${key}`);
    if (far !== undefined) await this.local.set(key, far);
    return far;
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const ttl = options?.ttl ?? DEFAULT_TTL_SECONDS;
    const sealed = ttl > 0 ? this.link.seal(value, `apq:${key}`) : undefined;
    const redisKey = this.link.keys.persistedQuery(key);
    await Promise.all([
      this.local.set(key, value, options),
      sealed !== undefined && this.link.run('apq-set', (client) => client.set(redisKey, sealed, 'PX', Math.ceil(ttl * 1000))),
    ]);
  }

  async delete(key: string): Promise<boolean> {
    const [near, removed] = await Promise.all([
      this.local.delete(key),
      this.link.run('apq-delete', (client) => client.del(this.link.keys.persistedQuery(key))),
    ]);
    return near === true || (removed !== UNAVAILABLE && removed > 0);
  }
}
