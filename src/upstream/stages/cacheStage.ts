import type { CredentialGate } from '../CredentialGate';
import { isCacheable, ttlFor, type CacheTtls } from '../cache/cacheTtl';
import { deepFreeze } from '../cache/deepFreeze';
import type { UpstreamAnswerCache } from '../cache/UpstreamAnswerCache';
import type { UpstreamAnswer } from '../exchange';
import type { CallStage } from './types';

/** What the upstream answer cache holds: the answer, frozen, so every reader sees the same thing. */
export interface CachedAnswer {
  readonly answer: UpstreamAnswer;
}

/**
 * Successful answers reused for their TTL (by kind; terminal jobs long), per credential scope (the
 * key holds the scope's digest). Only "ok" answers are kept: errors and "not found" never are, so
 * something that appears is seen at once. A scope the upstream has not answered within
 * CACHE_AUTH_RECHECK_MS is not served from here (its token may have been revoked since): the
 * lookup counts as a miss and the call goes on.
 */
export function cacheStage(cache: UpstreamAnswerCache<CachedAnswer>, ttls: CacheTtls, gate: CredentialGate): CallStage {
  return (next) => async (call) => {
    if (!isCacheable(call.route, ttls)) return next(call);
    const hit = gate.vouches(call.digest) ? cache.get(call.key) : undefined;
    call.events.cache?.({ route: call.route, hit: hit !== undefined });
    if (hit !== undefined) return hit.answer;
    const answer = await next(call);
    if (answer.kind === 'ok' && !cache.has(call.key)) {
      // Frozen before it is stored: the cached object is the one every later reader gets.
      cache.set(call.key, { answer: deepFreeze(answer) }, ttlFor(call.route, answer.body, ttls), answer.bytes);
    }
    return answer;
  };
}
