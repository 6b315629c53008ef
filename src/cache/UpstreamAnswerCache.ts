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

/** Key and bookkeeping, charged to every entry on top of its body. */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * The in-process level of the upstream answer cache: least recently used entries leave first when
 * the entry count or the byte total would pass its bound; each entry expires after its own TTL.
 * An entry's size is the upstream body's length, known exactly and cheaply.
 */
export class UpstreamAnswerCache<V extends object> {
  private readonly lru: LRUCache<string, V>;

  constructor(private readonly options: UpstreamAnswerCacheOptions) {
    this.lru = new LRUCache<string, V>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      // One answer may not take more than a quarter of the cache: it would evict most others.
      maxEntrySize: Math.max(1, Math.floor(options.maxBytes / 4)),
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

  has(key: string): boolean {
    return this.lru.has(key);
  }

  set(key: string, value: V, ttlMs: number, bodyBytes: number): void {
    if (ttlMs <= 0) return;
    const size = bodyBytes + ENTRY_OVERHEAD_BYTES;
    if (size > Math.floor(this.options.maxBytes / 4)) return;
    this.lru.set(key, value, { ttl: ttlMs, size });
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  get stats(): CacheStats {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize, maxEntries: this.options.maxEntries, maxBytes: this.options.maxBytes };
  }
}
