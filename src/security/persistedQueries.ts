import type { ApolloServerOptions, BaseContext } from '@apollo/server';
import { InMemoryLRUCache, PrefixingKeyValueCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import { parse, validate, type GraphQLSchema } from 'graphql';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/loadConfig';

/** One operation of Apollo's persisted query list manifest. */
export interface PersistedOperation {
  readonly id: string;
  readonly name: string;
  readonly type: 'query' | 'mutation' | 'subscription';
  readonly body: string;
}

export interface PersistedQueryManifest {
  readonly operations: readonly PersistedOperation[];
}

/**
 * Apollo's `persistedQueries` option for PERSISTED_QUERIES:
 * - `apq`: automatic persisted queries in a size-bounded LRU cache (an unbounded one would let
 *   any caller grow the process's memory by registering queries), in front of the replicas'
 *   registry when there is one (`shared`), so a document registered on one replica is found on all;
 * - `safelist`: only the manifest's operations, looked up by their `id`; registering is a no-op;
 * - `off`: persisted-query requests are refused by Apollo (PERSISTED_QUERY_NOT_SUPPORTED).
 */
export function persistedQueriesOption(
  mode: 'apq' | 'safelist' | 'off',
  apqCacheMaxBytes: number,
  manifest: PersistedQueryManifest | undefined,
  shared?: (local: KeyValueCache<string>) => KeyValueCache<string>,
): NonNullable<ApolloServerOptions<BaseContext>['persistedQueries']> {
  if (mode === 'off') return false;
  if (mode === 'safelist') {
    const bodies = new Map(manifest?.operations.map((operation) => [operation.id, operation.body]));
    const safelist: KeyValueCache<string> = {
      get: async (id) => bodies.get(id),
      set: async () => undefined,
      delete: async () => false,
    };
    // Apollo prefixes APQ keys (`apq:`) unless told the cache is ours alone: ids are looked up as they are.
    return { cache: PrefixingKeyValueCache.cacheDangerouslyDoesNotNeedPrefixesForIsolation(safelist) };
  }
  const sizeCalculation = (value: string) => Math.max(1, Buffer.byteLength(value));
  const local = new InMemoryLRUCache<string>({ maxSize: apqCacheMaxBytes, sizeCalculation });
  return { cache: shared?.(local) ?? local };
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

const TYPES = new Set(['query', 'mutation', 'subscription']);

/**
 * Reads and checks a manifest in Apollo's persisted-query-list format
 * (`{"format":"apollo-persisted-query-manifest","version":1,"operations":[{id,name,type,body}]}`,
 * what `@apollo/generate-persisted-query-manifest` writes). Every body must parse and validate
 * against the gateway's schema: a list that cannot be served stops start-up, like bad config.
 *
 * @throws ConfigError naming PERSISTED_QUERIES_MANIFEST, the path and what is wrong.
 */
export function loadPersistedQueryManifest(path: string, schema: GraphQLSchema): PersistedQueryManifest {
  const fail = (problem: string): never => {
    const expected = `an Apollo persisted query manifest (${problem})`;
    throw new ConfigError('PERSISTED_QUERIES_MANIFEST', path, expected);
  };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return fail(`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail('the file is not JSON');
  }
  if (!isObject(json)) return fail('expected a JSON object');
  if (json.format !== 'apollo-persisted-query-manifest') return fail('"format" must be "apollo-persisted-query-manifest"');
  if (json.version !== 1) return fail('"version" must be 1');
  if (!Array.isArray(json.operations)) return fail('"operations" must be an array');
  const ids = new Set<string>();
  const operations = json.operations.map((entry: unknown, index): PersistedOperation => {
    const at = `operations[${index}]`;
    if (!isObject(entry)) return fail(`${at} must be an object`);
    const { id, name, type, body } = entry;
    if (typeof id !== 'string' || id === '') return fail(`${at}.id must be a non-empty string`);
    if (ids.has(id)) return fail(`${at}.id "${id}" appears twice`);
    ids.add(id);
    if (typeof name !== 'string') return fail(`${at}.name must be a string`);
    if (typeof type !== 'string' || !TYPES.has(type)) return fail(`${at}.type must be query, mutation or subscription`);
    if (typeof body !== 'string' || body.trim() === '') return fail(`${at}.body must be a GraphQL document`);
    let errors: readonly { message: string }[];
    try {
      errors = validate(schema, parse(body));
    } catch (error) {
      return fail(`${at}.body does not parse: ${(error as Error).message}`);
    }
    if (errors.length > 0) return fail(`${at}.body is not valid against the schema: ${errors[0]!.message}`);
    return { id, name, type: type as PersistedOperation['type'], body };
  });
  return { operations };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
