import { hash } from 'node:crypto';

/**
 * Every key the gateway writes to Redis. A scope's keys carry its credential digest as their
 * Cluster hash tag (`{…}`): they live in one slot, so scripts reading several work on a cluster.
 * URLs are hashed, which keeps keys short and of one length.
 */
export interface RedisKeys {
  /** Changes when the upstream refuses the scope: answers kept under an older one are not served. */
  generation(digest: string): string;
  /** Present while the upstream accepted the scope's credentials within CACHE_AUTH_RECHECK_MS. */
  vouch(digest: string): string;
  /** The second level of the upstream answer cache. */
  answer(digest: string, url: string): string;
  /** A replica's lease on making an upstream call for the whole fleet. */
  lease(digest: string, url: string): string;
  /** The answer of a leased call, handed to the replicas that waited for it (its holder's token follows). */
  handover(digest: string, url: string): string;
  /** The lease of the one replica that polls a scope's engine for every subscriber in the fleet. */
  pollerLease(digest: string, engineId: string): string;
  /** Hash of what each replica watches on a scope's engine (`<replica>|j:<job id>`, `<replica>|e`) → expiry. */
  watchers(digest: string, engineId: string): string;
  /** Pub/sub channel of the poller's results for a scope's engine. */
  polls(digest: string, engineId: string): string;
  /** A registered APQ document, by Apollo's own key (`apq:<sha256>`). */
  persistedQuery(key: string): string;
}

export function redisKeys(prefix: string): RedisKeys {
  const scoped = (digest: string, kind: string, url: string) => `${prefix}{${digest}}:${kind}:${urlDigest(url)}`;
  return {
    generation: (digest) => `${prefix}{${digest}}:gen`,
    vouch: (digest) => `${prefix}{${digest}}:vouch`,
    answer: (digest, url) => scoped(digest, 'answer', url),
    lease: (digest, url) => scoped(digest, 'lease', url),
    handover: (digest, url) => scoped(digest, 'handover', url),
    pollerLease: (digest, engineId) => `${prefix}{${digest}}:poller:${engineId}`,
    watchers: (digest, engineId) => `${prefix}{${digest}}:watch:${engineId}`,
    polls: (digest, engineId) => `${prefix}{${digest}}:polls:${engineId}`,
    persistedQuery: (key) => `${prefix}${key}`,
  };
}

function urlDigest(url: string): string {
  return hash('sha256', url, 'base64url');
}
