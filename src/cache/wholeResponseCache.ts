import { LRUCache } from 'lru-cache';
import type { IncomingMessage } from 'node:http';
import { ttlRange, type CacheTtls } from './freshness';
import type { CallerCredentials } from './scopeKey';
import { storedRequestKey } from './requestKey';

/** A whole HTTP answer, as served again on a hit. */
export interface CachedResponse {
  readonly body: string;
  /** Apollo's own headers for it: `content-type` and `cache-control`. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Seconds since it was stored, for the `Age` header. */
  readonly ageSeconds: number;
  /** The operation it answered (for the hit's log line and metrics). */
  readonly operationName: string | null;
}

/** What Apollo made for a request that missed: offered to the cache once it is final. */
export interface ApolloAnswer {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

/** What the operation itself says about whether its result may be reused (see `storable`). */
export interface StoreVerdict {
  readonly operationName: string | null;
  /** Kept no longer than this, whatever its max-age (what its cached upstream parts had left). */
  readonly maxKeepMs?: number;
}

export interface WholeResponseCacheOptions<TContext> {
  readonly ttls: CacheTtls;
  /** Bound of the cache, in bytes of stored bodies. */
  readonly maxBytes: number;
  /** The caller's credentials; throws (or returns undefined) when it has none usable: never cached. */
  readonly credentialsOf: (request: IncomingMessage) => CallerCredentials | undefined;
  /**
   * The credentials' cache generation while stored answers may be served to them, `undefined`
   * otherwise: only while the upstream itself answered them recently (`CACHE_AUTH_RECHECK_MS`),
   * and only answers stored since it last refused them (see CredentialGate.generation).
   */
  readonly generationOf: (credentials: CallerCredentials) => number | undefined;
  /**
   * Asked after an operation that Apollo answered 200 with a cacheable policy: `undefined` when the
   * operation itself forbids storing (it saw a "not found", or used upstream cache entries).
   */
  readonly storable: (context: TContext) => StoreVerdict | undefined;
  readonly onHit?: (hit: CachedResponse) => void;
  readonly onMiss?: () => void;
  /** Milliseconds, monotonic: expiry and `Age`. Tests substitute it. */
  readonly clock?: { now(): number };
}

/** The HTTP server's view of the cache. */
export interface WholeResponseCache<TContext> {
  /** The request's key, or `undefined` when it must bypass the cache (no usable credentials). */
  keyOf(request: IncomingMessage, search: string, bodyText: string): string | undefined;
  /** A stored answer for `key` that may serve this request's caller now (else it executes, and may store anew). */
  lookup(key: string, request: IncomingMessage): CachedResponse | undefined;
  offer(key: string, request: IncomingMessage, context: TContext | undefined, answer: ApolloAnswer): void;
}

interface Entry {
  /** The caller's cache generation when the answer was stored. */
  readonly generation: number;
  readonly body: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly storedAt: number;
  /** When it expires (clock milliseconds): a promoted entry keeps its own expiry. */
  readonly expiresAt: number;
  readonly operationName: string | null;
}

/**
 * The share of OPERATION_CACHE_MAX_BYTES that answers not yet asked for again may hold (see
 * createWholeResponseCache: the probation segment).
 */
const PROBATION_SHARE = 0.2;

/** Stored per entry beside its body: headers, key and the map's own bookkeeping. */
const ENTRY_OVERHEAD_BYTES = 256;

/** Apollo's headers that describe the body itself; per-request ones (CORS, request id) are made anew. */
const STORED_HEADERS = ['content-type', 'cache-control'] as const;

/**
 * Whole HTTP answers, reused for the same caller sending the same request: many clients polling
 * one page then cost neither upstream calls nor execution — nor Apollo's request pipeline,
 * parsing or serialisation, which is why this sits in front of Apollo rather than in a plugin.
 * The policy is the one the cache-control hints already state, so a result lives exactly as long
 * as its shortest TTL:
 *
 * - The key is a SHA-256 of the credential scope (token, project, enterprise project) and of the
 *   request as sent (method, query string, `content-type`, `accept`, raw body): two tokens never
 *   share a result. A request whose credentials do not parse is never cached (Apollo refuses it).
 * - Only answers Apollo made with status 200 and `Cache-Control: max-age=N, private` with N > 0
 *   are kept, for N seconds. Apollo writes `no-store` for any response with errors, and a
 *   max-age of 0 when a field's TTL is 0; with every TTL at 0 there is no cache at all.
 * - An operation that saw a "not found" is never stored, like the upstream cache never keeps
 *   those, so an engine or job that appears is seen at once; one built from upstream cache entries
 *   is kept only for what the shortest-lived of them had left (`maxKeepMs`): it is already partly
 *   aged, and storing it for a full max-age again would serve data older than the TTLs allow.
 *   Both are the operation's to say (`storable`).
 * - Bounded by bytes (`OPERATION_CACHE_MAX_BYTES`), least recently used first, in two segments (a
 *   segmented LRU): a new answer goes to probation, a fifth of the bytes; its first hit promotes it
 *   to the protected rest. Requests that never repeat — new documents, random windows — churn
 *   probation only, and cannot push out the answers that are being reused.
 */
export function createWholeResponseCache<TContext>(options: WholeResponseCacheOptions<TContext>): WholeResponseCache<TContext> | undefined {
  if (ttlRange(options.ttls).max === 0) return undefined;
  const clock = options.clock ?? performance;
  const segment = (maxSize: number) =>
    new LRUCache<string, Entry>({
      maxSize: Math.max(1, Math.floor(maxSize)),
      sizeCalculation: (entry) => Buffer.byteLength(entry.body) + ENTRY_OVERHEAD_BYTES,
      // Expired entries are dropped when next read; no timers.
      ttlAutopurge: false,
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
  // keyOf gave a key, so the credentials parse (and credentialsOf keeps them per request).
  const generationOf = (request: IncomingMessage) => {
    const credentials = options.credentialsOf(request);
    return credentials === undefined ? undefined : options.generationOf(credentials);
  };
  return {
    keyOf(request, search, bodyText) {
      return storedRequestKey(options.credentialsOf, request, search, bodyText);
    },
    lookup(key, request) {
      const generation = generationOf(request);
      const stored = generation === undefined ? undefined : find(key);
      const entry = stored !== undefined && stored.generation === generation ? stored : undefined;
      if (entry === undefined) {
        options.onMiss?.();
        return undefined;
      }
      const hit: CachedResponse = {
        body: entry.body,
        headers: entry.headers,
        ageSeconds: Math.floor((clock.now() - entry.storedAt) / 1000),
        operationName: entry.operationName,
      };
      options.onHit?.(hit);
      return hit;
    },
    offer(key, request, context, answer) {
      if (context === undefined || answer.status !== 200) return;
      const generation = generationOf(request);
      if (generation === undefined) return;
      const maxAge = privateMaxAge(answer.headers.get('cache-control'));
      if (maxAge === 0) return;
      const verdict = options.storable(context);
      if (verdict === undefined) return;
      const headers = STORED_HEADERS.flatMap((name) => {
        const value = answer.headers.get(name);
        return value === undefined ? [] : [[name, value] as const];
      });
      const keepMs = Math.min(maxAge * 1000, verdict.maxKeepMs ?? Number.POSITIVE_INFINITY);
      const now = clock.now();
      const entry = { generation, body: answer.body, headers, storedAt: now, expiresAt: now + keepMs, operationName: verdict.operationName };
      // A key stored again (its entry was from an older generation) starts over in probation.
      protectedEntries.delete(key);
      probation.set(key, entry, { ttl: keepMs });
    },
  };
}

/**
 * The seconds a response may be kept by this (private) cache according to its `Cache-Control`:
 * its `max-age` when the header also says `private` and nothing forbids storing, else 0.
 */
export function privateMaxAge(cacheControl: string | undefined): number {
  if (cacheControl === undefined) return 0;
  let maxAge = 0;
  let isPrivate = false;
  for (const part of cacheControl.split(',')) {
    const directive = part.trim().toLowerCase();
    if (directive === 'private') isPrivate = true;
    else if (directive === 'no-store' || directive === 'no-cache') return 0;
    else if (directive.startsWith('max-age=')) {
      const value = directive.slice('max-age='.length);
      if (!/^\d{1,9}$/.test(value)) return 0;
      maxAge = Number(value);
    }
  }
  return isPrivate ? maxAge : 0;
}
