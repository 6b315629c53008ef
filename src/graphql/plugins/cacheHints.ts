import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { defaultFieldResolver, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { CachePolicy } from '../../cache/CachePolicy';
import { ttlOf, type CacheTtls, type Freshness } from '../../cache/freshness';
import { isTerminalJob } from '../../upstream/jobStatus';
import { fetchingField } from '../fetchingFields';

/** A field's freshness: its declaration's, or the shortest TTL for an undeclared root field. */
function freshnessOf(parentType: string, fieldName: string, isRoot: boolean): Freshness | undefined {
  return fetchingField(parentType, fieldName)?.freshness ?? (isRoot && !fieldName.startsWith('__') ? 'shortest' : undefined);
}

/**
 * The `maxAge` (seconds) a field's value may be reused for, or `undefined` when the field hints
 * nothing (only fields that fetch lower the response's max-age). A job resolved in a terminal
 * status gets the terminal TTL. Rounded down: a header never promises more than the gateway keeps.
 */
export function fieldMaxAge(parentType: string, fieldName: string, isRoot: boolean, result: unknown, ttls: CacheTtls): number | undefined {
  const freshness = freshnessOf(parentType, fieldName, isRoot);
  if (freshness === undefined) return undefined;
  return Math.floor(ttlOf(freshness, ttls, isTerminalJob(result)) / 1000);
}

/** What a hinted field needs of the context: the operation's policy (absent: nothing is recorded). */
type HintedContext = { readonly cachePolicy?: CachePolicy } | undefined;

const HINTED = Symbol('cse-jobs-gateway.hinted');

/**
 * Makes the fields {@link fieldMaxAge} gives a hint record it into the operation's
 * {@link CachePolicy} once their value is known: only these few fields are wrapped, once, at
 * start-up (the schema is changed in place). A field that fails records nothing: the response then
 * has errors and is `no-store`. Subscription results go over a socket, never into an HTTP cache.
 */
export function recordCacheHints(schema: GraphQLSchema): GraphQLSchema {
  const subscription = schema.getSubscriptionType();
  const roots = new Set([schema.getQueryType(), schema.getMutationType()].filter((t) => t !== null && t !== undefined));
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || type === subscription) continue;
    const isRoot = roots.has(type);
    for (const field of Object.values(type.getFields())) {
      if (freshnessOf(type.name, field.name, isRoot) === undefined) continue;
      if (isHinted(field.resolve)) {
        throw new Error(`recordCacheHints: ${type.name}.${field.name} already records its cache hint: applied twice to one schema`);
      }
      const resolve: GraphQLFieldResolver<unknown, HintedContext> = field.resolve ?? defaultFieldResolver;
      const record = (policy: CachePolicy) => (value: unknown) => {
        const maxAge = fieldMaxAge(type.name, field.name, isRoot, value, policy.ttls);
        if (maxAge !== undefined) policy.record(maxAge);
      };
      const hinted: GraphQLFieldResolver<unknown, HintedContext> = (source, args, context, info) => {
        const result: unknown = resolve(source, args, context, info);
        const policy = context?.cachePolicy;
        if (policy === undefined) return result;
        // graphql-js handles a rejection; there is nothing to record then.
        if (typeof (result as PromiseLike<unknown> | null)?.then === 'function') {
          (result as PromiseLike<unknown>).then(record(policy), () => undefined);
        } else record(policy)(result);
        return result;
      };
      field.resolve = Object.assign(hinted, { [HINTED]: true as const });
    }
  }
  return schema;
}

/** Whether a field's resolver records its cache hint. */
export function isHinted(resolve: unknown): boolean {
  return typeof resolve === 'function' && (resolve as { [HINTED]?: true })[HINTED] === true;
}

/**
 * `Cache-Control` for GraphQL responses from the operation's {@link CachePolicy}. Apollo's own
 * cache-control plugin is off: it hooks `willResolveField`, which makes Apollo wrap every field's
 * resolver; the hints are recorded by the few fields that fetch instead.
 */
export function cacheControlPlugins<TContext extends NonNullable<HintedContext>>(): Array<ApolloServerPlugin<TContext>> {
  const header: ApolloServerPlugin<TContext> = {
    requestDidStart: async () => ({
      async willSendResponse({ response, contextValue: { cachePolicy } }) {
        const hasErrors = response.body.kind !== 'single' || Boolean(response.body.singleResult.errors);
        response.http.headers.set('cache-control', cachePolicy === undefined ? 'no-store' : cachePolicy.header(hasErrors));
      },
    }),
  };
  return [ApolloServerPluginCacheControlDisabled(), header];
}
