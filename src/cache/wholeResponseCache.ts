import { LRUCache } from 'lru-cache';
import { ttlRange, type CacheTtls } from './freshness';
import { callerDigest, type CallerCredentials } from './scopeKey';
import type { ReuseVerdict } from './reusePolicy';
import { ENTRY_OVERHEAD_BYTES } from './UpstreamAnswerCache';

export interface CachedResponse {
  /** Bytes, as the socket takes them: a hit neither encodes nor measures them again. */
  readonly body: Buffer;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** For the `Age` header. */
  readonly ageSeconds: number;
  readonly operationName: string | null;
}

export interface ApolloAnswer {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

export interface WholeResponseCacheOptions<TContext> {
  readonly ttls: CacheTtls;
  /** In bytes of stored bodies and keys. */
  readonly maxBytes: number;
  /** See CredentialGate.generation: undefined while stored answers may not be served. */
  readonly generationOf: (credentials: CallerCredentials) => number | undefined;
  readonly storable: (context: TContext) => ReuseVerdict | undefined;
  readonly onLookup?: (hit: CachedResponse | undefined) => void;
  /** Milliseconds, monotonic. */
  readonly clock?: { now(): number };
}

export type WholeResponseCache<TContext> = NonNullable<ReturnType<typeof createWholeResponseCache<TContext>>>;

/** A promoted entry keeps its own expiry. */
interface Entry extends Omit<CachedResponse, 'ageSeconds'> {
  /** The caller whose share it counts in: its token and project (any enterprise project). */
  readonly caller: string;
  readonly generation: number;
  readonly storedAt: number;
  readonly expiresAt: number;
}

const PROBATION_SHARE = 0.2;
/** Of each segment, per caller: one that floods it pushes out its own answers, not another's. */
const CALLER_SHARE = 0.25;

/** Those that describe the body itself; per-request ones (CORS, request id) are made anew. */
const STORED_HEADERS = ['content-type', 'cache-control'] as const;

/** Whole HTTP answers in front of Apollo, kept for their `max-age=N, private`. A segmented LRU: a new
 * answer waits in probation for its first hit, so requests that never repeat cannot push out reused ones. */
export function createWholeResponseCache<TContext>(options: WholeResponseCacheOptions<TContext>) {
  if (ttlRange(options.ttls).max === 0) return undefined;
  const clock = options.clock ?? performance;
  const sizeOf = (entry: Entry, key: string) => entry.body.length + key.length + ENTRY_OVERHEAD_BYTES;
  const segment = (maxSize: number) => {
    const max = Math.max(1, Math.floor(maxSize));
    // Each caller's bytes and keys here, oldest first, kept by the cache's own hooks.
    const callers = new Map<string, { bytes: number; keys: Set<string> }>();
    const held = (entry: Entry, key: string, sign: 1 | -1) => {
      if (!callers.has(entry.caller)) callers.set(entry.caller, { bytes: 0, keys: new Set() });
      const mine = callers.get(entry.caller)!;
      mine.bytes += sign * sizeOf(entry, key);
      if (sign > 0) mine.keys.add(key);
      else if (mine.keys.delete(key) && mine.keys.size === 0) callers.delete(entry.caller);
    };
    const cache = new LRUCache<string, Entry>({
      maxSize: max,
      sizeCalculation: sizeOf,
      onInsert: (entry, key) => held(entry, key, 1),
      dispose: (entry, key) => held(entry, key, -1),
      perf: clock,
      // Read the clock on every lookup (no cached "now"): an entry is never served past its max-age.
      ttlResolution: 0,
    });
    // A caller past its share whose answer would push out another's makes room with its own oldest,
    // or is not kept: a flood of one caller cannot empty a segment of the others' answers.
    const put = (key: string, entry: Entry, ttl: number) => {
      const size = sizeOf(entry, key);
      const mine = () => callers.get(entry.caller)?.bytes ?? 0;
      const crowds = () => mine() + size > max * CALLER_SHARE && cache.calculatedSize + size > max;
      for (const old of callers.get(entry.caller)?.keys ?? []) {
        if (!crowds()) break;
        cache.delete(old);
      }
      if (!crowds()) cache.set(key, entry, { ttl });
    };
    return { cache, put };
  };
  const probation = segment(options.maxBytes * PROBATION_SHARE);
  const protectedEntries = segment(options.maxBytes * (1 - PROBATION_SHARE));
  const find = (key: string): Entry | undefined => {
    const kept = protectedEntries.cache.get(key);
    if (kept !== undefined) return kept;
    const candidate = probation.cache.get(key);
    if (candidate === undefined) return undefined;
    probation.cache.delete(key);
    const ttl = candidate.expiresAt - clock.now();
    if (ttl > 0) protectedEntries.put(key, candidate, ttl);
    return candidate;
  };
  return {
    lookup(key: string, credentials: CallerCredentials): CachedResponse | undefined {
      const generation = options.generationOf(credentials);
      const entry = generation === undefined ? undefined : find(key);
      let hit: CachedResponse | undefined;
      if (entry !== undefined && entry.generation === generation) {
        const { body, headers, operationName } = entry;
        hit = { body, headers, operationName, ageSeconds: Math.floor((clock.now() - entry.storedAt) / 1000) };
      }
      options.onLookup?.(hit);
      return hit;
    },
    offer(key: string, credentials: CallerCredentials, context: TContext | undefined, answer: ApolloAnswer): void {
      if (context === undefined || answer.status !== 200) return;
      const generation = options.generationOf(credentials);
      const maxAge = privateMaxAge(answer.headers.get('cache-control'));
      const verdict = maxAge === 0 ? undefined : options.storable(context);
      if (generation === undefined || verdict === undefined) return;
      const stored = STORED_HEADERS.filter((name) => answer.headers.has(name));
      const headers = stored.map((name) => [name, answer.headers.get(name)!] as const);
      const keepMs = Math.min(maxAge * 1000, verdict.maxKeepMs ?? Number.POSITIVE_INFINITY);
      const now = clock.now();
      const caller = callerDigest(credentials);
      const body = ownBytes(answer.body);
      const entry = { caller, generation, body, headers, storedAt: now, expiresAt: now + keepMs };
      protectedEntries.cache.delete(key);
      probation.put(key, { ...entry, operationName: verdict.operationName }, keepMs);
    },
  };
}

/** A small Buffer is a slice of Node's shared pool: kept, it would hold the whole pool, uncounted. */
const ownBytes = (body: Buffer): Buffer =>
  body.buffer.byteLength === body.length ? body : Buffer.from(new Uint8Array(body).buffer);

/** The seconds a `Cache-Control` lets this private cache keep a response (0: not at all). */
export function privateMaxAge(cacheControl: string | undefined): number {
  const directives = (cacheControl ?? '').toLowerCase().split(',').map((part) => part.trim());
  if (!directives.includes('private') || directives.includes('no-store') || directives.includes('no-cache')) return 0;
  const ages = directives.filter((directive) => directive.startsWith('max-age=')).map((directive) => directive.slice(8));
  return ages.every((age) => /^\d{1,9}$/.test(age)) ? Number(ages.at(-1) ?? 0) : 0;
}
