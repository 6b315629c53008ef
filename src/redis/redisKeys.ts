import { hash } from 'node:crypto';

export type RedisKeys = ReturnType<typeof redisKeys>;

/**
 * Every key the gateway writes to Redis. A scope's keys carry its credential digest as their
 * Cluster hash tag (`{…}`): they live in one slot, so scripts reading several work on a cluster.
 * URLs are hashed, which keeps keys short and of one length.
 */
export function redisKeys(prefix: string) {
  const scoped = (digest: string, kind: string, url: string) =>
    `${prefix}{${digest}}:${kind}:${hash('sha256', url, 'base64url')}`;
  return {
    /** Changes when the upstream refuses the scope: answers kept under an older one are not served. */
    generation: (digest: string) => `${prefix}{${digest}}:gen`,
    /** Present while the upstream accepted the scope's credentials within CACHE_AUTH_RECHECK_MS. */
    vouch: (digest: string) => `${prefix}{${digest}}:vouch`,
    answer: (digest: string, url: string) => scoped(digest, 'answer', url),
    lease: (digest: string, url: string) => scoped(digest, 'lease', url),
    /** The answer of a leased call, handed to the replicas that waited for it (its holder's token follows). */
    handover: (digest: string, url: string) => scoped(digest, 'handover', url),
    /** The lease of the one replica that polls a scope's engine for every subscriber in the fleet. */
    pollerLease: (digest: string, engineId: string) => `${prefix}{${digest}}:poller:${engineId}`,
    /** Hash of what each replica watches on a scope's engine (`<replica>|j:<job id>`, `<replica>|e`) → expiry. */
    watchers: (digest: string, engineId: string) => `${prefix}{${digest}}:watch:${engineId}`,
    polls: (digest: string, engineId: string) => `${prefix}{${digest}}:polls:${engineId}`,
    persistedQuery: (key: string) => `${prefix}${key}`,
  };
}
