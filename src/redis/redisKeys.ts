import { hash } from 'node:crypto';

export type RedisKeys = ReturnType<typeof redisKeys>;

/** A scope's keys carry its digest as their hash tag (`{…}`): one slot, so a script may read several. */
export function redisKeys(prefix: string) {
  const scoped = (digest: string, kind: string, url: string) =>
    `${prefix}{${digest}}:${kind}:${hash('sha256', url, 'base64url')}`;
  return {
    generation: (digest: string) => `${prefix}{${digest}}:gen`,
    /** Present while the upstream accepted the scope within CACHE_AUTH_RECHECK_MS. */
    vouch: (digest: string) => `${prefix}{${digest}}:vouch`,
    answer: (digest: string, url: string) => scoped(digest, 'answer', url),
    lease: (digest: string, url: string) => scoped(digest, 'lease', url),
    /** Its holder's token follows. */
    handover: (digest: string, url: string) => scoped(digest, 'handover', url),
    pollerLease: (digest: string, engineId: string) => `${prefix}{${digest}}:poller:${engineId}`,
    /** `<replica>|j:<job id>` and `<replica>|e` → expiry. */
    watchers: (digest: string, engineId: string) => `${prefix}{${digest}}:watch:${engineId}`,
    polls: (digest: string, engineId: string) => `${prefix}{${digest}}:polls:${engineId}`,
    persistedQuery: (key: string) => `${prefix}${key}`,
    /** The channel of the scopes a replica saw the upstream refuse. */
    refusals: () => `${prefix}refusals`,
  };
}
