import { LRUCache } from 'lru-cache';

/** Charged to every entry on top of its body: its key or headers, and the map's bookkeeping. */
export const ENTRY_OVERHEAD_BYTES = 256;

/** Of the cache, per caller: one that floods it pushes out its own entries, not another's. */
export const CALLER_SHARE = 0.25;

const PURGE_EVERY_MS = 1000;

export interface CallerShareBounds<V = unknown> {
  readonly maxBytes: number;
  readonly maxEntries?: number;
  /** The largest entry kept (default `maxBytes`). */
  readonly maxEntryBytes?: number;
  /** Milliseconds, monotonic, read on every lookup: an entry is never served past its TTL. */
  readonly clock?: { now(): number };
  /** Told of each entry pushed out to make room (not one replaced, deleted or expired). */
  readonly evicted?: (key: string, value: V) => void;
}

interface Held<V> {
  readonly value: V;
  readonly caller: string;
  readonly size: number;
}

/**
 * An LRU bounded by bytes (and entries) that callers share: once it is full, a caller past its
 * share whose entry would push out another's makes room with its own least recently used, or is
 * not kept. Each caller's bytes and keys are kept by the LRU's own hooks.
 */
export class CallerShareCache<V extends object> {
  private readonly lru: LRUCache<string, Held<V>>;
  private readonly callers = new Map<string, { bytes: number; keys: Set<string> }>();
  private readonly maxEntries: number;
  private readonly clock: { now(): number };
  private purgedAt = Number.NEGATIVE_INFINITY;
  /** While a caller past its share makes room with its own entries. */
  private makingRoom = false;

  constructor(readonly bounds: CallerShareBounds<V>) {
    this.clock = bounds.clock ?? performance;
    const maxSize = Math.max(1, Math.floor(bounds.maxBytes));
    this.maxEntries = bounds.maxEntries ?? Number.POSITIVE_INFINITY;
    this.lru = new LRUCache<string, Held<V>>({
      maxSize,
      ...(bounds.maxEntries === undefined ? {} : { max: bounds.maxEntries }),
      maxEntrySize: Math.max(1, Math.floor(bounds.maxEntryBytes ?? maxSize)),
      onInsert: (held, key) => this.count(held, key, 1),
      dispose: (held, key, reason) => {
        this.count(held, key, -1);
        if (reason === 'evict' || (reason === 'delete' && this.makingRoom)) bounds.evicted?.(key, held.value);
      },
      ...(bounds.clock === undefined ? {} : { perf: bounds.clock, ttlResolution: 0 }),
    });
  }

  get(key: string): V | undefined {
    const held = this.lru.get(key);
    if (held === undefined) return undefined;
    // Its caller's keys in the order of their use: the oldest it gives up is its least recently used.
    const keys = this.callers.get(held.caller)?.keys;
    keys?.delete(key);
    keys?.add(key);
    return held.value;
  }

  ttlLeftMs(key: string): number {
    return Math.max(0, this.lru.getRemainingTTL(key));
  }

  /** `bytes`: the body's; past the largest entry, what was kept under `key` stays. Whether it was kept. */
  set(key: string, value: V, entry: { readonly ttlMs: number; readonly bytes: number; readonly caller: string }): boolean {
    const size = entry.bytes + ENTRY_OVERHEAD_BYTES;
    if (entry.ttlMs <= 0 || size > this.lru.maxEntrySize) return false;
    this.lru.delete(key);
    const crowds = () => {
      const own = this.callers.get(entry.caller);
      const full = this.lru.calculatedSize + size > this.lru.maxSize || this.lru.size + 1 > this.maxEntries;
      const bytes = (own?.bytes ?? 0) + size > this.lru.maxSize * CALLER_SHARE;
      return full && (bytes || (own?.keys.size ?? 0) + 1 > this.maxEntries * CALLER_SHARE);
    };
    // Expired entries stay until read or pushed out: they make the cache look full, and callers
    // long gone crowd out the ones still here. Dropped at most once a second (a walk of them all).
    if (crowds() && this.clock.now() - this.purgedAt >= PURGE_EVERY_MS) {
      this.purgedAt = this.clock.now();
      this.lru.purgeStale();
    }
    this.makingRoom = true;
    try {
      for (const old of this.callers.get(entry.caller)?.keys ?? []) {
        if (!crowds()) break;
        this.lru.delete(old);
      }
    } finally {
      this.makingRoom = false;
    }
    if (crowds()) return false;
    this.lru.set(key, { value, caller: entry.caller, size }, { ttl: entry.ttlMs, size });
    return true;
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  get stats() {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize, ...this.bounds };
  }

  private count({ caller, size }: Held<V>, key: string, sign: 1 | -1): void {
    let own = this.callers.get(caller);
    if (own === undefined) this.callers.set(caller, (own = { bytes: 0, keys: new Set() }));
    own.bytes += sign * size;
    if (sign > 0) own.keys.add(key);
    else if (own.keys.delete(key) && own.keys.size === 0) this.callers.delete(caller);
  }
}
