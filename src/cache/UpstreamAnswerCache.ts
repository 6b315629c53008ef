import { LRUCache } from 'lru-cache';

export interface UpstreamAnswerCacheOptions {
  readonly maxEntries: number;
  /** Bound on the summed size of the entries (see {@link UpstreamAnswerCache.set}). */
  readonly maxBytes: number;
}

export interface CacheStats {
  readonly entries: number;
  readonly bytes: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/** Key length (64 hex digits) and bookkeeping, charged to every entry on top of its body. */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * The bounded in-memory cache of upstream answers (not of whole GraphQL responses: that is
 * `http/wholeResponseCache`): least recently used entries leave first when either the
 * entry count or the byte total would pass its bound, and each entry expires after its own TTL.
 * Keys are {@link scopeKey}s (a credential digest and the URL), so entries of different callers never meet.
 *
 * Size is the upstream body's length in bytes (as received) plus a fixed overhead: it is known
 * exactly and cheaply, and the parsed objects take a small, stable multiple of it.
 */
export class UpstreamAnswerCache<V extends object> {
  private readonly lru: LRUCache<string, V>;

  constructor(private readonly options: UpstreamAnswerCacheOptions) {
    this.lru = new LRUCache<string, V>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      // One answer may not take more than a quarter of the cache: it would evict most others.
      maxEntrySize: Math.max(1, Math.floor(options.maxBytes / 4)),
      // Expired entries are dropped when read or evicted; no timers (none to clean up in tests).
      ttlAutopurge: false,
      allowStale: false,
      updateAgeOnGet: false,
    });
  }

  get(key: string): V | undefined {
    return this.lru.get(key);
  }

  /** The milliseconds the live entry of `key` has left (0 when there is none). */
  ttlLeftMs(key: string): number {
    return Math.max(0, this.lru.getRemainingTTL(key));
  }

  /** Whether a live entry is held for `key` (without counting as a use). */
  has(key: string): boolean {
    return this.lru.has(key);
  }

  /** Stores `value` for `ttlMs`; an entry bigger than a quarter of the byte bound is not kept. */
  set(key: string, value: V, ttlMs: number, bodyBytes: number): void {
    if (ttlMs <= 0) return;
    const size = bodyBytes + ENTRY_OVERHEAD_BYTES;
    if (size > Math.floor(this.options.maxBytes / 4)) return;
    this.lru.set(key, value, { ttl: ttlMs, size });
  }

  /** Drops what is kept for `key`, if anything. */
  delete(key: string): void {
    this.lru.delete(key);
  }

  get stats(): CacheStats {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize, maxEntries: this.options.maxEntries, maxBytes: this.options.maxBytes };
  }
}
