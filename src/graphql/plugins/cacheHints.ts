import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { defaultFieldResolver, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { ttlRange, type CacheTtls } from '../../cache/freshness';
import { isTerminalJob } from '../../upstream/jobStatus';
import type { CachePolicy } from '../../cache/CachePolicy';
import { fetchingField, type Freshness } from '../fetchingFields';

/** How a field's value is bounded in freshness: its declaration's, or the shortest TTL for an undeclared root field. */
function freshnessOf(parentType: string, fieldName: string, isRoot: boolean): Freshness | undefined {
  return fetchingField(parentType, fieldName)?.freshness ?? (isRoot && !fieldName.startsWith('__') ? 'shortest' : undefined);
}

/**
 * The `maxAge` (seconds) a field's value may be reused for, or `undefined` when the field sets no
 * hint of its own (only fields that fetch ever lower the response's max-age).
 *
 * - each fetching field by its declared freshness (graphql/fetchingFields): lists →
 *   `CACHE_LIST_TTL_MS`, engines → `CACHE_ENGINE_TTL_MS`, jobs → `CACHE_JOB_TTL_MS`, or
 *   `CACHE_TERMINAL_JOB_TTL_MS` when the job resolved is in a terminal status (it cannot change);
 * - root fields nobody declared get the shortest TTL: an unknown source is assumed to be the
 *   freshest kind, never the most durable. (So `Engine`/`Job.__resolveReference`, reached only
 *   through `_entities`, need no hint of their own: nothing they fetch is fresher than it.)
 *
 * Seconds are rounded down: a header must never promise more freshness than the gateway keeps.
 */
export function fieldMaxAge(parentType: string, fieldName: string, isRoot: boolean, result: unknown, ttls: CacheTtls): number | undefined {
  const freshness = freshnessOf(parentType, fieldName, isRoot);
  if (freshness === undefined) return undefined;
  return seconds(ttlOf(freshness, result, ttls));
}

function ttlOf(freshness: Freshness, result: unknown, ttls: CacheTtls): number {
  switch (freshness) {
    case 'list':
      return ttls.listMs;
    case 'engine':
      return ttls.engineMs;
    case 'job':
      return isTerminalJob(result) ? ttls.terminalJobMs : ttls.jobMs;
    case 'shortest':
      return ttlRange(ttls).min;
  }
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** What a hinted field needs of the context: the operation's policy (absent: nothing is recorded). */
interface HintedContext {
  readonly cachePolicy?: CachePolicy;
}

/**
 * Makes the fields {@link fieldMaxAge} gives a hint — the fetching ones and every root field —
 * record it into the operation's {@link CachePolicy} once their value is known (a job's status
 * decides its TTL). Only these few fields are wrapped, once, at start-up; every other field keeps
 * its plain resolver. A field that fails records nothing: the response then has errors and is
 * `no-store` whatever was recorded. Returns the same schema, changed in place.
 */
export function recordCacheHints(schema: GraphQLSchema): GraphQLSchema {
  // Subscription results go over a socket, never into an HTTP cache: their root fields hint nothing.
  const subscription = schema.getSubscriptionType();
  const roots = new Set([schema.getQueryType(), schema.getMutationType()].filter((t) => t !== null && t !== undefined));
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || type === subscription) continue;
    const isRoot = roots.has(type);
    for (const field of Object.values(type.getFields())) {
      if (freshnessOf(type.name, field.name, isRoot) === undefined) continue;
      // Applied twice, every hint would be recorded twice (and the wrappers stack up).
      if (isHinted(field.resolve)) throw new Error(`recordCacheHints: ${type.name}.${field.name} already records its cache hint: applied twice to one schema`);
      field.resolve = hinted(field.resolve ?? defaultFieldResolver, type.name, field.name, isRoot);
    }
  }
  return schema;
}

/** Marks the resolvers {@link recordCacheHints} wrapped (see isHinted). */
const HINTED = Symbol('cse-jobs-gateway.hinted');

/** Whether a field's resolver records its cache hint (tests: the invariant of recordCacheHints). */
export function isHinted(resolve: unknown): boolean {
  return typeof resolve === 'function' && (resolve as { [HINTED]?: true })[HINTED] === true;
}

function hinted(
  resolve: GraphQLFieldResolver<unknown, HintedContext>,
  parentType: string,
  fieldName: string,
  isRoot: boolean,
): GraphQLFieldResolver<unknown, HintedContext> {
  const wrapped: GraphQLFieldResolver<unknown, HintedContext> = (source, args, context, info) => {
    const result: unknown = resolve(source, args, context, info);
    const policy = context?.cachePolicy;
    if (policy === undefined) return result;
    const record = (value: unknown) => {
      const maxAge = fieldMaxAge(parentType, fieldName, isRoot, value, policy.ttls);
      if (maxAge !== undefined) policy.record(maxAge);
    };
    // The caller (graphql-js) handles the rejection; this branch only has nothing to record.
    if (isPromiseLike(result)) result.then(record, () => undefined);
    else record(result);
    return result;
  };
  return Object.assign(wrapped, { [HINTED]: true as const });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Honest `Cache-Control` for GraphQL responses, as Apollo's cache-control plugin wrote it with
 * our hints: `max-age=N, private`, N the shortest TTL actually involved, when the response has no
 * errors; `no-store` otherwise (see {@link CachePolicy.header}).
 *
 * Apollo's own plugin is switched off: it hooks `willResolveField`, and any plugin that does makes
 * Apollo wrap every field's resolver and call the hooks on every field of every response (a page
 * of 20 jobs with their tasks has hundreds). The hints are recorded instead by the few fields
 * that fetch (`recordCacheHints`, applied to the schema).
 */
export function cacheControlPlugins<TContext extends HintedContext>(): Array<ApolloServerPlugin<TContext>> {
  const header: ApolloServerPlugin<TContext> = {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          const body = response.body;
          const hasErrors = body.kind !== 'single' || Boolean(body.singleResult.errors);
          const policy = contextValue.cachePolicy;
          response.http.headers.set('cache-control', policy === undefined ? 'no-store' : policy.header(hasErrors));
        },
      };
    },
  };
  return [ApolloServerPluginCacheControlDisabled(), header];
}
