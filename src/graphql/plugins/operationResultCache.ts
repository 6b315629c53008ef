import type { ApolloServerPlugin } from '@apollo/server';
import responseCachePlugin from '@apollo/server-plugin-response-cache';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import { currentRequestScope } from '../../observability/requestScope';
import { ttlRange, type CacheTtls } from '../../upstream/cache/cacheTtl';
import { scopeKey } from '../../upstream/cache/scopeKey';
import type { GatewayContext } from '../context';

export interface OperationResultCacheOptions {
  readonly ttls: CacheTtls;
  /** Bound of the cache, in bytes of serialised results. */
  readonly maxBytes: number;
}

/**
 * Whole operation results, reused for the same caller asking the same query with the same
 * variables: many clients polling one page then cost neither upstream calls nor execution.
 * Apollo's response-cache plugin, driven by the cache hints every fetching field already sets
 * (see `cacheControlPlugins`), so a result lives exactly as long as its shortest TTL:
 *
 * - Results are bound to the credential scope (token, project, enterprise project): the scope
 *   digest is both the session and part of every key, so two tokens never share a result, even
 *   one Apollo would call public.
 * - Results with errors, and results of fields whose TTL is 0, are never stored (Apollo skips
 *   responses with errors or a max-age of 0); with every TTL at 0 the plugin is not installed.
 * - A result that involved a "not found" answer is never stored: like the upstream cache, which
 *   never keeps those, so that an engine or job that appears is seen at once.
 * - Only results made wholly from fresh upstream answers are stored: one built from upstream
 *   cache entries is already partly aged, and storing it for a full max-age again would serve
 *   data older than the TTL promises (and the `Cache-Control` header says).
 *
 * Must come after the cache-control plugins: it reads the response's policy once they have made
 * it final (PRIVATE) in `willSendResponse`.
 */
export function operationResultCachePlugins(options: OperationResultCacheOptions): Array<ApolloServerPlugin<GatewayContext>> {
  if (ttlRange(options.ttls).max === 0) return [];
  // Asked twice per operation (session and key): one digest per context.
  const scopes = new WeakMap<GatewayContext, string>();
  const scopeOf = async ({ contextValue }: { contextValue: GatewayContext }) => {
    let scope = scopes.get(contextValue);
    if (scope === undefined) scopes.set(contextValue, (scope = scopeKey(contextValue.credentials, 'graphql')));
    return scope;
  };
  return [
    responseCachePlugin<GatewayContext>({
      cache: new InMemoryLRUCache<string>({ maxSize: options.maxBytes, sizeCalculation: (value) => Buffer.byteLength(value) }),
      sessionId: scopeOf,
      extraCacheKeyData: scopeOf,
      shouldWriteToCache: async ({ contextValue }) =>
        !contextValue.upstream.notFound && currentRequestScope()?.operation?.upstreamCacheHits === 0,
    }),
  ];
}
