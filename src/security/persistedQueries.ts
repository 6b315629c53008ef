import type { ApolloServerOptions, ApolloServerPlugin, BaseContext } from '@apollo/server';
import { InMemoryLRUCache, PrefixingKeyValueCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import { createHash } from 'node:crypto';
import { Kind, type OperationDefinitionNode } from 'graphql';
import { ErrorCode } from '../errors/codes';
import type { PersistedQueryManifest } from './persistedQueryManifest';
import { requestRefusal } from './requestRefusal';
import type { ScopedContext } from '../observability/operationPlugin';
import { TieredKeyValueCache } from '../cache/TieredKeyValueCache';

export type PersistedQueriesMode = 'apq' | 'safelist' | 'off';

type PersistedQueriesOption = NonNullable<ApolloServerOptions<BaseContext>['persistedQueries']>;

/**
 * Apollo's `persistedQueries` option for the mode:
 * - `apq`: automatic persisted queries in a size-bounded LRU cache (an unbounded one would let
 *   any caller grow the process's memory by registering queries); with Redis (`shared`), the
 *   LRU is in front of the fleet's registry, so a document registered on one replica is found on
 *   every other;
 * - `safelist`: only the manifest's operations, looked up by their `id`; registering new
 *   queries is a no-op, so the cache can never hold anything else;
 * - `off`: persisted-query requests are refused by Apollo (PERSISTED_QUERY_NOT_SUPPORTED).
 */
export function persistedQueriesOption(
  mode: PersistedQueriesMode,
  apqCacheMaxBytes: number,
  manifest: PersistedQueryManifest | undefined,
  shared?: KeyValueCache<string>,
): PersistedQueriesOption {
  if (mode === 'off') return false;
  if (mode === 'safelist') {
    // Apollo prefixes APQ keys (`apq:`) unless told the cache is ours alone; the manifest's ids
    // must be looked up as they are.
    return { cache: PrefixingKeyValueCache.cacheDangerouslyDoesNotNeedPrefixesForIsolation(new ManifestCache(manifest?.operations ?? [])) };
  }
  const local = new InMemoryLRUCache<string>({ maxSize: apqCacheMaxBytes, sizeCalculation: byteLength });
  return { cache: shared === undefined ? local : new TieredKeyValueCache(local, shared) };
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

export interface SafelistOptions {
  /** Whether introspection is on: then introspection-only operations pass (Sandbox needs them). */
  readonly introspection: boolean;
}

/**
 * PERSISTED_QUERIES=safelist: refuses, before execution, every operation whose text is not
 * exactly the body of a manifest operation (whether it came as full text or by id).
 */
export function safelistPlugin(manifest: PersistedQueryManifest, options: SafelistOptions): ApolloServerPlugin<ScopedContext> {
  const listed = manifestHashCheck(manifest);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ source, operation, contextValue }) {
          if (listed(sha256(source))) {
            // A listed operation's name is the list's, not the caller's: it may take a metrics label.
            contextValue.scope?.facts?.markSafelisted();
            return;
          }
          if (options.introspection && operation !== undefined && isIntrospectionOnly(operation)) return;
          throw requestRefusal(
            ErrorCode.PERSISTED_QUERY_NOT_IN_LIST,
            'This gateway only runs the operations of its persisted query list, and this is not one of them.',
          );
        },
      };
    },
  };
}

/**
 * Whether a document whose text has this SHA-256 (hex) is exactly the body of a manifest
 * operation: callers that hash the text anyway (the document store's key) ask with that hash.
 */
export function manifestHashCheck(manifest: PersistedQueryManifest): (sourceHash: string) => boolean {
  const allowed = new Set(manifest.operations.map((operation) => sha256(operation.body)));
  return (sourceHash) => allowed.has(sourceHash);
}

/** The hex SHA-256 of a document's text: the key of the document store and of the manifest check. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Only `__schema`, `__type` and `__typename` at the top level (fragments are not followed: stricter). */
function isIntrospectionOnly(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.every(
    (selection) => selection.kind === Kind.FIELD && selection.name.value.startsWith('__'),
  );
}
