import type { ApolloServerOptions, BaseContext } from '@apollo/server';
import { InMemoryLRUCache, PrefixingKeyValueCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import { createHash } from 'node:crypto';
import type { PersistedQueryManifest } from './persistedQueryManifest';

export type PersistedQueriesMode = 'apq' | 'safelist' | 'off';

type PersistedQueriesOption = NonNullable<ApolloServerOptions<BaseContext>['persistedQueries']>;

/**
 * Apollo's `persistedQueries` option for the mode:
 * - `apq`: automatic persisted queries in a size-bounded LRU cache (an unbounded one would let
 *   any caller grow the process's memory by registering queries); with `shared` (the replicas'
 *   registry) wrapping the LRU, a document registered on one replica is found on every other;
 * - `safelist`: only the manifest's operations, looked up by their `id`; registering new
 *   queries is a no-op, so the cache can never hold anything else;
 * - `off`: persisted-query requests are refused by Apollo (PERSISTED_QUERY_NOT_SUPPORTED).
 */
export function persistedQueriesOption(
  mode: PersistedQueriesMode,
  apqCacheMaxBytes: number,
  manifest: PersistedQueryManifest | undefined,
  shared?: (local: KeyValueCache<string>) => KeyValueCache<string>,
): PersistedQueriesOption {
  if (mode === 'off') return false;
  if (mode === 'safelist') {
    // Apollo prefixes APQ keys (`apq:`) unless told the cache is ours alone; the manifest's ids
    // must be looked up as they are.
    return { cache: PrefixingKeyValueCache.cacheDangerouslyDoesNotNeedPrefixesForIsolation(new ManifestCache(manifest?.operations ?? [])) };
  }
  const local = new InMemoryLRUCache<string>({ maxSize: apqCacheMaxBytes, sizeCalculation: byteLength });
  return { cache: shared?.(local) ?? local };
}

const byteLength = (value: string) => Math.max(1, Buffer.byteLength(value));

/** A read-only cache of the manifest's bodies by id: what hash-only requests resolve against. */
class ManifestCache implements KeyValueCache<string> {
  private readonly bodies: ReadonlyMap<string, string>;

  constructor(operations: PersistedQueryManifest['operations']) {
    this.bodies = new Map(operations.map((operation) => [operation.id, operation.body]));
  }

  async get(key: string): Promise<string | undefined> {
    return this.bodies.get(key);
  }

  async set(): Promise<void> {
    // Registration never adds to a safelist.
  }

  async delete(): Promise<boolean> {
    return false;
  }
}

/** Whether a document whose text has this SHA-256 (hex) is exactly the body of a manifest operation. */
export function manifestHashCheck(manifest: PersistedQueryManifest): (sourceHash: string) => boolean {
  const allowed = new Set(manifest.operations.map((operation) => sha256(operation.body)));
  return (sourceHash) => allowed.has(sourceHash);
}

/** The hex SHA-256 of a document's text: the key of the document store and of the manifest check. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
