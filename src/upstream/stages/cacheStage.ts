import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';
import type { CredentialGate } from '../CredentialGate';
import { isCacheable, ttlFor, type CacheTtls } from '../cache/cacheTtl';
import { deepFreeze } from '../cache/deepFreeze';
import type { UpstreamAnswerCache } from '../cache/UpstreamAnswerCache';
import { withoutText, type UpstreamAnswer } from '../exchange';
import type { CallRequest, CallStage } from './types';

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
 * answer kept before the upstream last refused the scope (a 401): the lookup counts as a miss and
 * the call goes on. A 403 denies that one call's resource: what was kept for it is dropped (a
 * subscription's poll reads past the cache, so something may be), the scope's other answers stay.
 *
 * With Redis, a miss here goes on to the fleet's second level (see fleetLevel), behind the single
 * flight; `fromRedis` tells which answers it found there (and how long they have left), for the
 * hit counts.
 */
export function cacheStage(
  cache: UpstreamAnswerCache<CachedAnswer>,
  ttls: CacheTtls,
  gate: CredentialGate,
  fromRedis?: (answer: UpstreamAnswer) => number | undefined,
): CallStage {
  /** Keeps `answer` for its TTL — no longer than `ttlLeftMs`, what it had left where it came from (Redis). */
  const keep = (call: CallRequest, answer: UpstreamAnswer, ttlLeftMs = Number.POSITIVE_INFINITY) => {
    // Answered by the upstream (or by Redis, under the fleet's vouch), so the scope is vouched for now.
    const generation = gate.generation(call.digest);
    // A fresh answer replaces what is kept; otherwise a concurrent call may have stored it already.
    const stale = call.request.fresh === true || cache.get(call.key)?.generation !== generation;
    if (answer.kind === 'ok' && generation !== undefined && stale) {
      // Frozen before it is stored: the cached object is the one every later reader gets.
      const ttlMs = Math.min(ttlFor(call.route, answer.body, ttls), ttlLeftMs);
      cache.set(call.key, { answer: deepFreeze(withoutText(answer)), generation }, ttlMs, answer.bytes);
    }
  };
  return (next) => async (call) => {
    if (!isCacheable(call.route, ttls)) return next(call);
    const current = gate.generation(call.digest);
    const stored = current === undefined || call.request.fresh === true ? undefined : cache.get(call.key);
    const hit = stored !== undefined && stored.generation === current ? stored : undefined;
    if (hit !== undefined) {
      call.events.cache?.({ route: call.route, hit: true, ttlLeftMs: cache.ttlLeftMs(call.key) });
      return hit.answer;
    }
    // Without Redis a miss here is a miss, said before the call; with it, Redis may still hit.
    if (fromRedis === undefined) call.events.cache?.({ route: call.route, hit: false });
    let answer: UpstreamAnswer;
    try {
      answer = await next(call);
    } catch (error) {
      if (isForbidden(error)) cache.delete(call.key);
      throw error;
    }
    const ttlLeftMs = fromRedis?.(answer);
    if (fromRedis !== undefined) {
      call.events.cache?.(ttlLeftMs === undefined ? { route: call.route, hit: false } : { route: call.route, hit: true, ttlLeftMs });
    }
    keep(call, answer, ttlLeftMs);
    return answer;
  };
}

/** The upstream's 403: the resource is denied to the scope (see CredentialGate.isCredentialRefusal). */
function isForbidden(error: unknown): boolean {
  return error instanceof GatewayError && error.code === ErrorCode.FORBIDDEN && (error.extensions.upstream as { status?: number } | undefined)?.status === 403;
}
