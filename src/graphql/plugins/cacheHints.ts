import type { ApolloServerPlugin } from '@apollo/server';
import { maybeCacheControlFromInfo } from '@apollo/cache-control-types';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { isTerminalJobStatus, mapJobStatus } from '../../mapping/enums';
import { ttlRange, type CacheTtls } from '../../upstream/cache/cacheTtl';

/** Which upstream answer a field's value comes from, and so which TTL bounds its freshness. */
type HintKind = 'list' | 'engine' | 'job' | 'shortest';

/** Fields that fetch: their value is as fresh as the upstream answer (or cache entry) behind it. */
const FETCHING_FIELDS: Readonly<Record<string, Readonly<Record<string, HintKind>>>> = {
  Query: { engines: 'list', engine: 'engine', job: 'job' },
  Engine: { jobs: 'list', latestJob: 'job' },
  Job: { engine: 'engine' },
};

/**
 * The `maxAge` (seconds) a field's value may be reused for, or `undefined` when the field sets no
 * hint of its own (it then counts as Apollo's `defaultMaxAge`, the largest TTL, so only fields
 * that fetch ever lower the response's max-age).
 *
 * - lists → `CACHE_LIST_TTL_MS`, engines → `CACHE_ENGINE_TTL_MS`, jobs → `CACHE_JOB_TTL_MS`, or
 *   `CACHE_TERMINAL_JOB_TTL_MS` when the job resolved is in a terminal status (it cannot change);
 * - root fields nobody listed here (added later, e.g. federation's `_entities`) get the shortest
 *   TTL: an unknown source is assumed to be the freshest kind, never the most durable.
 *
 * Seconds are rounded down: a header must never promise more freshness than the gateway keeps.
 */
export function fieldMaxAge(parentType: string, fieldName: string, isRoot: boolean, result: unknown, ttls: CacheTtls): number | undefined {
  const kind = FETCHING_FIELDS[parentType]?.[fieldName] ?? (isRoot && !fieldName.startsWith('__') ? 'shortest' : undefined);
  if (kind === undefined) return undefined;
  return seconds(ttlOf(kind, result, ttls));
}

function ttlOf(kind: HintKind, result: unknown, ttls: CacheTtls): number {
  switch (kind) {
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

function isTerminalJob(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const status = (value as { status?: unknown }).status;
  return typeof status === 'string' && isTerminalJobStatus(mapJobStatus(status));
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/**
 * Honest `Cache-Control` for GraphQL responses: Apollo's cache-control plugin computes the
 * response's policy as the minimum over its fields, sends `max-age=N, private` when every field
 * is cacheable and the response has no errors, and `no-store` otherwise. The default max-age is
 * the largest TTL and each fetching field hints its own TTL (see {@link fieldMaxAge}), so the
 * header carries the shortest TTL actually involved.
 *
 * The scope is always PRIVATE: every answer depends on the caller's token.
 *
 * The order of the two plugins matters, and is why they come as one list: Apollo calls
 * `willResolveField` in reverse plugin order and the field's end hooks in plugin order, so the
 * hints plugin, placed first, sees `info.cacheControl` already made and sets its hint before
 * Apollo folds the field into the overall policy; and `willSendResponse` hooks start in plugin
 * order, so the scope is made PRIVATE before Apollo writes the header. (Restricting the policy
 * any earlier, at execution start, would make Apollo's plugin skip field hints altogether.)
 */
export function cacheControlPlugins<TContext extends object>(ttls: CacheTtls): Array<ApolloServerPlugin<TContext>> {
  const hints: ApolloServerPlugin<TContext> = {
    async requestDidStart() {
      return {
        async executionDidStart(requestContext) {
          const { schema } = requestContext;
          const rootNames = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].map((t) => t?.name));
          return {
            willResolveField({ info }) {
              const parentType = info.parentType.name;
              const isRoot = rootNames.has(parentType);
              // Called once the field's value is known (a job's status decides its TTL).
              return (_error, result) => {
                const maxAge = fieldMaxAge(parentType, info.fieldName, isRoot, result, ttls);
                if (maxAge !== undefined) maybeCacheControlFromInfo(info)?.setCacheHint({ maxAge, scope: 'PRIVATE' });
              };
            },
          };
        },
        async willSendResponse(requestContext) {
          requestContext.overallCachePolicy.restrict({ scope: 'PRIVATE' });
        },
      };
    },
  };
  return [hints, ApolloServerPluginCacheControl({ defaultMaxAge: seconds(ttlRange(ttls).max) })];
}
