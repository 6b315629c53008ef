import { ttlRange, type CacheTtls } from './freshness';
import { callerDigest, type CallerCredentials } from './scopeKey';
import type { ReuseVerdict } from './reusePolicy';
import { CallerShareCache } from './CallerShareCache';

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
  /** The caller whose share it counts in: its token (any project or enterprise project). */
  readonly caller: string;
  readonly generation: number;
  readonly storedAt: number;
  readonly expiresAt: number;
}

const PROBATION_SHARE = 0.2;

/** Those that describe the body itself; per-request ones (CORS, request id) are made anew. */
const STORED_HEADERS = ['content-type', 'cache-control'] as const;

/** Whole HTTP answers in front of Apollo, kept for their `max-age=N, private`. A segmented LRU: a new
 * answer waits in probation for its first hit, so requests that never repeat cannot push out reused ones. */
export function createWholeResponseCache<TContext>(options: WholeResponseCacheOptions<TContext>) {
  if (ttlRange(options.ttls).max === 0) return undefined;
  const clock = options.clock ?? performance;
  const segment = (share: number) => new CallerShareCache<Entry>({ maxBytes: options.maxBytes * share, clock });
  const put = (segment: CallerShareCache<Entry>, key: string, entry: Entry, ttlMs: number) =>
    segment.set(key, entry, { ttlMs, bytes: entry.body.length + key.length, caller: entry.caller });
  const probation = segment(PROBATION_SHARE);
  const protectedEntries = segment(1 - PROBATION_SHARE);
  const find = (key: string): Entry | undefined => {
    const kept = protectedEntries.get(key);
    if (kept !== undefined) return kept;
    const candidate = probation.get(key);
    if (candidate === undefined) return undefined;
    probation.delete(key);
    const ttl = candidate.expiresAt - clock.now();
    if (ttl > 0) put(protectedEntries, key, candidate, ttl);
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
      protectedEntries.delete(key);
      put(probation, key, { ...entry, operationName: verdict.operationName }, keepMs);
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
