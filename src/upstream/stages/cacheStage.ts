import type { CredentialGate } from '../CredentialGate';
import { isCacheable, ttlFor, type CacheTtls } from '../cache/cacheTtl';
import { deepFreeze } from '../cache/deepFreeze';
import type { UpstreamAnswerCache } from '../cache/UpstreamAnswerCache';
import type { UpstreamAnswer } from '../exchange';
import { UNAVAILABLE } from '../../redis/unavailable';
import type { SharedAnswers } from '../../redis/SharedAnswers';
import type { CallHandler, CallRequest, CallStage } from './types';

/**
 * What the upstream answer cache holds: the answer, frozen, so every reader sees the same thing,
 * and the credential scope's generation when it was kept (see CredentialGate.generation).
 */
export interface CachedAnswer {
  readonly answer: UpstreamAnswer;
  readonly generation: number;
}

/**
 * Successful answers reused for their TTL (by kind; terminal jobs long), per credential scope (the
 * key holds the scope's digest). Only "ok" answers are kept: errors and "not found" never are, so
 * something that appears is seen at once. A scope the upstream has not answered within
 * CACHE_AUTH_RECHECK_MS is not served from here (its token may have been revoked since), nor an
 * answer kept before the upstream last refused the scope (a 403 for one engine among others): the
 * lookup counts as a miss and the call goes on.
 *
 * With Redis (`shared`), a miss here asks Redis, the fleet's second level, under the same key and
 * TTLs: see {@link SharedAnswers} for how its rule matches this one.
 */
export function cacheStage(cache: UpstreamAnswerCache<CachedAnswer>, ttls: CacheTtls, gate: CredentialGate, shared?: SharedAnswers): CallStage {
  const keep = (call: CallRequest, answer: UpstreamAnswer) => {
    // Answered by the upstream itself, so the scope is vouched for now, under this generation.
    const generation = gate.generation(call.digest);
    // A fresh answer replaces what is kept; otherwise a concurrent call may have stored it already.
    const stale = call.request.fresh === true || cache.get(call.key)?.generation !== generation;
    if (answer.kind === 'ok' && generation !== undefined && stale) {
      // Frozen before it is stored: the cached object is the one every later reader gets.
      cache.set(call.key, { answer: deepFreeze(answer), generation }, ttlFor(call.route, answer.body, ttls), answer.bytes);
    }
  };
  return (next) => async (call) => {
    if (!isCacheable(call.route, ttls)) return next(call);
    const current = gate.generation(call.digest);
    const stored = current === undefined || call.request.fresh === true ? undefined : cache.get(call.key);
    const hit = stored !== undefined && stored.generation === current ? stored : undefined;
    if (hit === undefined && shared !== undefined) return secondLevel(call, next, shared, current);
    call.events.cache?.({ route: call.route, hit: hit !== undefined });
    if (hit !== undefined) return hit.answer;
    const answer = await next(call);
    keep(call, answer);
    return answer;
  };

  /**
   * A miss here, with Redis: Redis decides by its own rule (see SharedAnswers) whether it holds an
   * answer this scope may have. One found is kept here too when this replica vouches for the
   * scope, for what is left of its TTL; one fetched goes to both levels.
   */
  async function secondLevel(call: CallRequest, next: CallHandler, redis: SharedAnswers, current: number | undefined): Promise<UpstreamAnswer> {
    const looked = await redis.lookup(call.digest, call.key);
    const found = looked === UNAVAILABLE || call.request.fresh === true ? undefined : looked.hit;
    call.events.cache?.({ route: call.route, hit: found !== undefined });
    if (found !== undefined) {
      if (current !== undefined) {
        const ttl = Math.min(found.ttlLeftMs, ttlFor(call.route, found.answer.kind === 'ok' ? found.answer.body : undefined, ttls));
        cache.set(call.key, { answer: deepFreeze(found.answer), generation: current }, ttl, found.answer.kind === 'ok' ? found.answer.bytes : 0);
      }
      return found.answer;
    }
    const answer = await next(call);
    keep(call, answer);
    // Awaited (bounded by REDIS_TIMEOUT_MS): the next replica asking should find it.
    if (looked !== UNAVAILABLE && answer.kind === 'ok') {
      await redis.store(call.digest, call.key, answer, looked.generation, ttlFor(call.route, answer.body, ttls));
    }
    return answer;
  }
}
