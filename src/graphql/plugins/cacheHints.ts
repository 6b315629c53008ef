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

/** Seconds, rounded down: a header never promises more than the gateway keeps; `undefined`: no hint. */
export function fieldMaxAge(parentType: string, fieldName: string, isRoot: boolean, result: unknown, ttls: CacheTtls): number | undefined {
  const freshness = freshnessOf(parentType, fieldName, isRoot);
  if (freshness === undefined) return undefined;
  return Math.floor(ttlOf(freshness, ttls, isTerminalJob(result)) / 1000);
}

type HintedContext = { readonly cachePolicy?: CachePolicy } | undefined;

const HINTED = Symbol('cse-jobs-gateway.hinted');

/** The few fields with a hint record it once their value is known (one that fails records nothing: the
 * response is then `no-store`). Subscription results never go into an HTTP cache. */
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

export function isHinted(resolve: unknown): boolean {
  return typeof resolve === 'function' && (resolve as { [HINTED]?: true })[HINTED] === true;
}

/** Apollo's cache-control plugin is off: its `willResolveField` makes Apollo wrap every resolver. */
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
