import type { ApolloServerOptions, ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import { InMemoryLRUCache, PrefixingKeyValueCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import { parse, validate, type GraphQLSchema } from 'graphql';
import { createHash } from 'node:crypto';
import { ENTRY_OVERHEAD_BYTES } from '../cache/CallerShareCache';
import { ConfigError, type GatewayConfig } from '../config/loadConfig';
import { readSettingFile } from '../config/settingFile';
import type { Credentials } from '../upstream/credentials';
import { isObject } from '../upstream/types';

type PersistedOperations = ReturnType<typeof loadPersistedQueryManifest>;

/** APQ's cache is bounded: an unbounded one would let any caller grow memory by registering. */
export function persistedQueriesOption(
  limits: Pick<GatewayConfig['limits'], 'persistedQueries' | 'apqCacheMaxBytes'>,
  manifest: PersistedOperations | undefined,
  shared?: (local: KeyValueCache<string>) => KeyValueCache<string>,
): NonNullable<ApolloServerOptions<BaseContext>['persistedQueries']> {
  if (limits.persistedQueries === 'off') return false;
  if (limits.persistedQueries === 'safelist') {
    const bodies = new Map(manifest?.map((operation) => [operation.id, operation.body]));
    const safelist: KeyValueCache<string> = {
      get: async (id) => bodies.get(id),
      set: async () => undefined,
      delete: async () => false,
    };
    // Apollo prefixes APQ keys (`apq:`) unless told the cache is ours alone: ids are looked up as they are.
    return { cache: PrefixingKeyValueCache.cacheDangerouslyDoesNotNeedPrefixesForIsolation(safelist) };
  }
  // Its key and the map's bookkeeping too: a flood of tiny documents is mostly that.
  const sizeCalculation = (value: string, key: string) => Buffer.byteLength(value) + key.length + ENTRY_OVERHEAD_BYTES;
  const local = new InMemoryLRUCache<string>({ maxSize: limits.apqCacheMaxBytes, sizeCalculation });
  return { cache: shared?.(local) ?? local };
}

/**
 * Apollo registers an APQ text before its operation runs, whoever sent it: callers the upstream has not
 * accepted (made-up tokens, no token) could fill the bounded cache with padded texts and push out every
 * other caller's. Their texts run, unregistered; once their token is accepted, a later one registers.
 */
export function persistedQueryRegistration<TContext extends { readonly credentials: Credentials }>(
  isStranger: (credentials: Credentials) => boolean,
): ApolloServerPlugin<TContext> {
  const listener: GraphQLRequestListener<TContext> = {
    async didResolveOperation(requestContext) {
      if (requestContext.metrics.persistedQueryRegister === true && isStranger(requestContext.contextValue.credentials)) {
        requestContext.metrics.persistedQueryRegister = false;
      }
    },
  };
  return { requestDidStart: async () => listener };
}

export function manifestHashCheck(manifest: PersistedOperations): (sourceHash: string) => boolean {
  const allowed = new Set(manifest.map((operation) => sha256(operation.body)));
  return (sourceHash) => allowed.has(sourceHash);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const TYPES = new Set(['query', 'mutation', 'subscription']);

/** Far above any real list, far below what would exhaust the process. */
export const MANIFEST_MAX_BYTES = 64 * 1024 * 1024;

/** A list that cannot be served stops start-up: @throws ConfigError naming the path and the problem. */
export function loadPersistedQueryManifest(path: string, schema: GraphQLSchema) {
  const fail = (problem: string): never => {
    const expected = `an Apollo persisted query manifest (${problem})`;
    throw new ConfigError('PERSISTED_QUERIES_MANIFEST', path, expected);
  };
  const file = readSettingFile(path, MANIFEST_MAX_BYTES);
  if ('problem' in file) return fail(file.problem);
  let json: unknown;
  try {
    json = JSON.parse(file.text);
  } catch {
    return fail('the file is not JSON');
  }
  if (!isObject(json)) return fail('expected a JSON object');
  if (json.format !== 'apollo-persisted-query-manifest') return fail('"format" must be "apollo-persisted-query-manifest"');
  if (json.version !== 1) return fail('"version" must be 1');
  if (!Array.isArray(json.operations)) return fail('"operations" must be an array');
  const ids = new Set<string>();
  return json.operations.map((entry: unknown, index) => {
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
    return { id, name, type: type as 'query' | 'mutation' | 'subscription', body };
  });
}
