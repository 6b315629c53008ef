import type { ApolloServerOptions, ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import { PrefixingKeyValueCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import { parse, validate, type GraphQLSchema } from 'graphql';
import { createHash } from 'node:crypto';
import { CallerShareCache } from '../cache/CallerShareCache';
import { ConfigError, type GatewayConfig } from '../config/loadConfig';
import { readSettingFile } from '../config/settingFile';
import { callerDigest } from '../cache/scopeKey';
import type { Credentials } from '../upstream/credentials';
import { isObject } from '../upstream/types';

type PersistedOperations = ReturnType<typeof loadPersistedQueryManifest>;

/** How long a registered text is kept, here and in Redis: a client whose text expired registers it again. */
export const REGISTERED_TTL_MS = 60 * 60 * 1000;

/** Texts another replica registered, read through Redis, count as one caller's. */
const FLEET = 'fleet';

/** The replicas' registry in Redis (RedisQueryRegistry): what does not open, or Redis failing, is a miss. */
export interface FleetRegistry {
  get(key: string): Promise<string | undefined>;
  /** Writes it for the other replicas, for REGISTERED_TTL_MS. */
  put(key: string, text: string): void;
  /** What this replica wrote and pushed out of its own registry. */
  forget(key: string): void;
}

/**
 * The APQ registry: bounded in bytes (APQ_CACHE_MAX_BYTES), each caller's texts a share of it, so one
 * caller registering texts pushes out its own, not everyone's. Apollo reads it; texts are registered here,
 * with their caller (`persistedQueryRegistration`), which Apollo's own registration does not know. With
 * Redis, what this replica registers is written there too, and deleted when this registry pushes it out:
 * the replica keeps in Redis no more of its writing than it holds itself.
 */
export class QueryRegistry {
  private readonly texts: CallerShareCache<{ readonly text: string; readonly written: boolean }>;

  constructor(maxBytes: number, private readonly fleet?: FleetRegistry) {
    this.texts = new CallerShareCache({
      maxBytes,
      evicted: (key, kept) => {
        if (kept.written) fleet?.forget(key);
      },
    });
  }

  async get(hash: string): Promise<string | undefined> {
    const key = keyOf(hash);
    const near = this.texts.get(key)?.text;
    if (near !== undefined || this.fleet === undefined) return near;
    const far = await this.fleet.get(key);
    if (far !== undefined) this.keep(key, far, FLEET, false);
    return far;
  }

  register(hash: string, text: string, caller: string): void {
    const key = keyOf(hash);
    const written = this.fleet !== undefined;
    if (this.keep(key, text, caller, written) && written) this.fleet.put(key, text);
  }

  private keep(key: string, text: string, caller: string, written: boolean): boolean {
    // Its key and the map's bookkeeping too (the cache adds that): a flood of tiny documents is mostly that.
    const bytes = Buffer.byteLength(text) + key.length;
    return this.texts.set(key, { text, written }, { ttlMs: REGISTERED_TTL_MS, bytes, caller });
  }
}

/** Apollo's own prefix, kept: the keys in Redis are those of the replicas before. */
const keyOf = (hash: string) => `apq:${hash}`;

/** What Apollo reads: the registry (APQ), or the manifest's operations (safelist). */
export function persistedQueriesOption(
  limits: Pick<GatewayConfig['limits'], 'persistedQueries'>,
  manifest: PersistedOperations | undefined,
  registry: QueryRegistry | undefined,
): NonNullable<ApolloServerOptions<BaseContext>['persistedQueries']> {
  if (limits.persistedQueries === 'off') return false;
  const bodies = new Map(manifest?.map((operation) => [operation.id, operation.body]));
  const read: KeyValueCache<string> = {
    get: async (id) => (registry === undefined ? bodies.get(id) : registry.get(id)),
    // Texts are registered with their caller (persistedQueryRegistration), never by Apollo.
    set: async () => undefined,
    delete: async () => false,
  };
  // Apollo prefixes APQ keys (`apq:`) unless told the cache is ours alone: ids and hashes are looked up as
  // they are.
  return { cache: PrefixingKeyValueCache.cacheDangerouslyDoesNotNeedPrefixesForIsolation(read) };
}

/**
 * Apollo would register an APQ text before its operation runs, whoever sent it, in one registry for all.
 * Registered here instead, with its caller: callers the upstream has not accepted (made-up tokens, no
 * token) register nothing (their texts run; once their token is accepted, a later one registers), and a
 * caller's texts are a share of the registry.
 */
export function persistedQueryRegistration<TContext extends { readonly credentials: Credentials }>(
  isStranger: (credentials: Credentials) => boolean,
  registry: QueryRegistry | undefined,
): ApolloServerPlugin<TContext> {
  const listener: GraphQLRequestListener<TContext> = {
    async didResolveOperation(requestContext) {
      if (requestContext.metrics.persistedQueryRegister !== true) return;
      requestContext.metrics.persistedQueryRegister = false;
      const { queryHash, source, contextValue } = requestContext;
      const { credentials } = contextValue;
      if (registry === undefined || queryHash === undefined || source === undefined || isStranger(credentials)) return;
      registry.register(queryHash, source, callerDigest(credentials));
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
