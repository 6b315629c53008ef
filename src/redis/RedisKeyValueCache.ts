import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import { LRUCache } from 'lru-cache';
import { ENTRY_OVERHEAD_BYTES } from '../cache/CallerShareCache';
import { UNAVAILABLE } from '../cache/secondLevel';
import type { RedisLink } from './RedisLink';

/** Entries written without a TTL still expire (every gateway key has one: `volatile-lru` works);
 * a client whose document expired registers it again. */
const DEFAULT_TTL_SECONDS = 60 * 60;

/**
 * The APQ registry behind the replica's own; Redis failing, or a value that does not open, is a miss.
 * Anyone may register, so a replica keeps in Redis no more bytes than its own registry holds: what it
 * wrote and pushed out of that share it deletes.
 */
export class RedisKeyValueCache implements KeyValueCache<string> {
  /** What this replica wrote, by key: sealed bytes, key and overhead. */
  private readonly written: LRUCache<string, number>;

  constructor(private readonly link: RedisLink, private readonly local: KeyValueCache<string>, maxBytes: number) {
    this.written = new LRUCache<string, number>({
      maxSize: maxBytes,
      sizeCalculation: (bytes) => bytes,
      dispose: (_bytes, key, reason) => {
        if (reason === 'evict') void this.link.run('apq-delete', (client) => client.del(this.link.keys.persistedQuery(key)));
      },
    });
  }

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
    const ttlMs = Math.ceil(ttl * 1000);
    // Its key and Redis's own bookkeeping too: a flood of tiny documents is mostly that.
    const bytes = sealed === undefined ? 0 : Buffer.byteLength(sealed) + redisKey.length + ENTRY_OVERHEAD_BYTES;
    const fits = bytes > 0 && bytes <= this.written.maxSize;
    if (fits) this.written.set(key, bytes, { ttl: ttlMs });
    await Promise.all([
      this.local.set(key, value, options),
      fits && this.link.run('apq-set', (client) => client.set(redisKey, sealed!, 'PX', ttlMs)),
    ]);
  }

  async delete(key: string): Promise<boolean> {
    this.written.delete(key);
    const [near, removed] = await Promise.all([
      this.local.delete(key),
      this.link.run('apq-delete', (client) => client.del(this.link.keys.persistedQuery(key))),
    ]);
    return near === true || (removed !== UNAVAILABLE && removed > 0);
  }
}
