import { LRUCache } from 'lru-cache';
import type { IncomingMessage } from 'node:http';
import { ttlRange, type CacheTtls } from './freshness';
import type { CallerCredentials } from './scopeKey';
import type { CredentialsOf } from './requestKey';
import type { ReuseVerdict } from './reusePolicy';

/** A whole HTTP answer as served again: Apollo's own headers for it (`content-type`, `cache-control`). */
export interface CachedResponse {
  readonly body: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Seconds since it was stored, for the `Age` header. */
  readonly ageSeconds: number;
  /** The operation it answered (for the hit's log line and metrics). */
  readonly operationName: string | null;
}

/** What Apollo made for a request: offered to the caches once it is final. */
export interface ApolloAnswer {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

export interface WholeResponseCacheOptions<TContext> {
  readonly ttls: CacheTtls;
  /** In bytes of stored bodies and keys. */
  readonly maxBytes: number;
  readonly credentialsOf: CredentialsOf;
  /** The credentials' cache generation while stored answers may be served to them (see CredentialGate.generation). */
  readonly generationOf: (credentials: CallerCredentials) => number | undefined;
  /** Asked after a 200 with a cacheable policy: `undefined` when the operation forbids storing. */
  readonly storable: (context: TContext) => ReuseVerdict | undefined;
  /** Told of every lookup: the hit, or `undefined` for a miss. */
  readonly onLookup?: (hit: CachedResponse | undefined) => void;
  /** Milliseconds, monotonic: expiry and `Age`. Tests substitute it. */
  readonly clock?: { now(): number };
}

export type WholeResponseCache<TContext> = NonNullable<ReturnType<typeof createWholeResponseCache<TContext>>>;

/** With the caller's cache generation when stored, and when it expires (a promoted entry keeps its own). */
interface Entry extends Omit<CachedResponse, 'ageSeconds'> {
  readonly generation: number;
  readonly storedAt: number;
  readonly expiresAt: number;
}

/** The share of OPERATION_CACHE_MAX_BYTES that answers not yet asked for again may hold. */
const PROBATION_SHARE = 0.2;
/** Stored per entry beside its body and key: headers and the map's own bookkeeping. */
const ENTRY_OVERHEAD_BYTES = 256;

/** Apollo's headers that describe the body itself; per-request ones (CORS, request id) are made anew. */
const STORED_HEADERS = ['content-type', 'cache-control'] as const;

/**
 * Whole HTTP answers, reused for the same caller sending the same request (keys: requestKey), in
 * front of Apollo (a hit costs no parsing, execution or serialisation). The policy is the one the
 * cache-control hints state: only a 200 with `Cache-Control: max-age=N, private`, N > 0, is kept,
 * for N seconds — and no longer than its cached upstream parts had left (`storable`). Bounded by
 * bytes in a segmented LRU: a new answer goes to probation (a fifth of the bytes), its first hit
 * promotes it, so requests that never repeat cannot push out the answers being reused.
 */
export function createWholeResponseCache<TContext>(options: WholeResponseCacheOptions<TContext>) {
  if (ttlRange(options.ttls).max === 0) return undefined;
  const clock = options.clock ?? performance;
  const segment = (maxSize: number) =>
    new LRUCache<string, Entry>({
      maxSize: Math.max(1, Math.floor(maxSize)),
      sizeCalculation: (entry, key) => Buffer.byteLength(entry.body) + key.length + ENTRY_OVERHEAD_BYTES,
      perf: clock,
      // Read the clock on every lookup (no cached "now"): an entry is never served past its max-age.
      ttlResolution: 0,
    });
  const probation = segment(options.maxBytes * PROBATION_SHARE);
  const protectedEntries = segment(options.maxBytes * (1 - PROBATION_SHARE));
  /** The entry for a key, promoted out of probation on its first hit. */
  const find = (key: string): Entry | undefined => {
    const kept = protectedEntries.get(key);
    if (kept !== undefined) return kept;
    const candidate = probation.get(key);
    if (candidate === undefined) return undefined;
    probation.delete(key);
    const ttl = candidate.expiresAt - clock.now();
    if (ttl > 0) protectedEntries.set(key, candidate, { ttl });
    return candidate;
  };
  const generationOf = (request: IncomingMessage) => {
    const credentials = options.credentialsOf(request);
    return credentials && options.generationOf(credentials);
  };
  return {
    /** A stored answer for `key` that may serve this request's caller now. */
    lookup(key: string, request: IncomingMessage): CachedResponse | undefined {
      const generation = generationOf(request);
      const entry = generation === undefined ? undefined : find(key);
      let hit: CachedResponse | undefined;
      if (entry !== undefined && entry.generation === generation) {
        const { body, headers, operationName } = entry;
        hit = { body, headers, operationName, ageSeconds: Math.floor((clock.now() - entry.storedAt) / 1000) };
      }
      options.onLookup?.(hit);
      return hit;
    },
    offer(key: string, request: IncomingMessage, context: TContext | undefined, answer: ApolloAnswer): void {
      if (context === undefined || answer.status !== 200) return;
      const generation = generationOf(request);
      const maxAge = privateMaxAge(answer.headers.get('cache-control'));
      const verdict = maxAge === 0 ? undefined : options.storable(context);
      if (generation === undefined || verdict === undefined) return;
      const headers = STORED_HEADERS.flatMap((name) => {
        const value = answer.headers.get(name);
        return value === undefined ? [] : [[name, value] as const];
      });
      const keepMs = Math.min(maxAge * 1000, verdict.maxKeepMs ?? Number.POSITIVE_INFINITY);
      const now = clock.now();
      const entry = { generation, body: answer.body, headers, storedAt: now, expiresAt: now + keepMs };
      protectedEntries.delete(key);
      probation.set(key, { ...entry, operationName: verdict.operationName }, { ttl: keepMs });
    },
  };
}

/** The seconds a `Cache-Control` lets this private cache keep a response (0: not at all). */
export function privateMaxAge(cacheControl: string | undefined): number {
  const directives = (cacheControl ?? '').toLowerCase().split(',').map((part) => part.trim());
  if (!directives.includes('private') || directives.includes('no-store') || directives.includes('no-cache')) return 0;
  const ages = directives.filter((directive) => directive.startsWith('max-age=')).map((directive) => directive.slice(8));
  return ages.every((age) => /^\d{1,9}$/.test(age)) ? Number(ages.at(-1) ?? 0) : 0;
}
