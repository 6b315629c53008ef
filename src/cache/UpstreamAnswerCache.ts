import { LRUCache } from 'lru-cache';

/** Charged to every entry on top of its body: its key or headers, and the map's bookkeeping. */
export const ENTRY_OVERHEAD_BYTES = 256;

/** The in-process level of the upstream answer cache, bounded by entries and bytes (bodies' lengths). */
export class UpstreamAnswerCache<V extends object> {
  private readonly lru: LRUCache<string, V>;

  constructor(readonly bounds: { readonly maxEntries: number; readonly maxBytes: number }) {
    // One answer may not take more than a quarter of the cache: it would evict most others.
    const maxEntrySize = Math.max(1, Math.floor(bounds.maxBytes / 4));
    this.lru = new LRUCache<string, V>({ max: bounds.maxEntries, maxSize: bounds.maxBytes, maxEntrySize });
  }

  get(key: string): V | undefined {
    return this.lru.get(key);
  }

  ttlLeftMs(key: string): number {
    return Math.max(0, this.lru.getRemainingTTL(key));
  }

  /** Past the largest entry, what is kept under `key` stays (lru-cache would drop it). */
  set(key: string, value: V, ttlMs: number, bodyBytes: number): void {
    const size = bodyBytes + ENTRY_OVERHEAD_BYTES;
    if (ttlMs > 0 && size <= this.lru.maxEntrySize) this.lru.set(key, value, { ttl: ttlMs, size });
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  get stats() {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize, ...this.bounds };
  }
}

export type CacheStats = UpstreamAnswerCache<object>['stats'];
