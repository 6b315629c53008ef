import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';
import { UNAVAILABLE } from '../../redis/unavailable';
import type { Lease, Lookup, SharedAnswers, SharedCall } from '../../redis/SharedAnswers';
import type { CredentialGate } from '../CredentialGate';
import { isCacheable, ttlFor, type CacheTtls } from '../cache/cacheTtl';
import { classifyTransportError } from '../errorMapping';
import type { UpstreamAnswer } from '../exchange';
import { remainingMs, type CallHandler, type CallRequest, type CallStage } from './types';

/** How often a waiting replica asks again for the holder's answer (or an expired lease to take over). */
const FLIGHT_POLL_MS = 10;

const NEVER = new AbortController().signal;

export interface FleetLevel {
  readonly stage: CallStage;
  /**
   * How long `answer` has left to live if it came from Redis's second level, `undefined` if it did
   * not (for the cache hit counts, kept per caller, and what may be built from it).
   */
  fromRedis(answer: UpstreamAnswer): number | undefined;
}

/**
 * With Redis, behind the in-process single flight (so one ask per replica and call): the second
 * level of the answer cache, and the lease that makes identical calls in flight on several
 * replicas one (see SharedAnswers). A miss asks Redis once; the answer comes back kept, or the
 * lease does — the call is made here and settled for the fleet — or the name of the replica that
 * holds it, whose answer this one reads as soon as it is there (every {@link FLIGHT_POLL_MS}),
 * until its caller's deadline passes or every caller leaves. A holder that dies stops renewing
 * its lease; it lapses and a waiter takes it over.
 *
 * Errors are not handed over (a GatewayError is the holder's to classify): a waiter that learns
 * the holder failed makes the call itself, with its own retries and breakers. Redis failing in
 * any step means the call is made here, as without Redis. A subscription's poll (`fresh`) goes
 * past both: it exists to see the upstream now; its answer is kept for the others all the same.
 */
export function fleetLevel(shared: SharedAnswers, ttls: CacheTtls, gate: CredentialGate): FleetLevel {
  /** Answers found in Redis → when they expire (performance.now()). */
  const fromRedis = new WeakMap<object, number>();

  /**
   * A kept answer found in Redis: the in-memory level (cacheStage) keeps it too, for what is left
   * of its TTL (see fromRedis). The fleet's vouch that let Redis serve it vouches for the scope here
   * as well, for what is left of it: a replica whose every answer comes from Redis — another
   * replica always calls first — would otherwise never keep one, and ask Redis (and parse the
   * page) on every request.
   */
  const found = (call: CallRequest, hit: Extract<Lookup, { state: 'hit' }>, scope: number): UpstreamAnswer => {
    fromRedis.set(hit.answer, performance.now() + hit.ttlLeftMs);
    gate.acceptedElsewhere(call.digest, hit.vouchLeftMs, scope);
    return hit.answer;
  };

  const hold = async (call: CallRequest, next: CallHandler, target: SharedCall, lease: Lease): Promise<UpstreamAnswer> => {
    // Renewed at a third of its life: two renewals may be lost (a slow Redis) before it lapses.
    const renewal = lease.token === '' ? undefined : setInterval(() => void shared.renew(target, lease), Math.max(1, Math.floor(shared.leaseMs / 3)));
    renewal?.unref();
    let answer: UpstreamAnswer | undefined;
    try {
      answer = await next(call);
      return answer;
    } finally {
      clearInterval(renewal);
      const ttlMs = target.cacheable && answer?.kind === 'ok' ? ttlFor(call.route, answer.body, ttls) : 0;
      // Not awaited: the caller has its answer; a replica asking meanwhile finds the lease still held.
      void shared.settle(target, lease, answer, ttlMs);
    }
  };

  const stage: CallStage = (next) => async (call) => {
    const target = shared.call(call.digest, call.key, isCacheable(call.route, ttls));
    if (call.request.fresh === true) {
      if (!target.cacheable) return next(call);
      const lease = await shared.generation(call.digest);
      return lease === UNAVAILABLE ? next(call) : hold(call, next, target, lease);
    }
    const signal = call.signal ?? NEVER;
    const deadline = call.request.deadline;
    const token = randomUUID();
    const scope = gate.standingGeneration(call.digest);
    let holder: string | undefined;
    for (;;) {
      const looked = await shared.lookup(target, token, holder);
      if (looked === UNAVAILABLE) return next(call);
      switch (looked.state) {
        case 'hit':
          return found(call, looked, scope);
        case 'lease':
          return hold(call, next, target, looked.lease);
        case 'handed':
          if (looked.answer === undefined) return next(call);
          call.events.coalesced?.({ route: call.route });
          return looked.answer;
        case 'wait':
          holder = looked.holder;
      }
      const left = Math.min(FLIGHT_POLL_MS, remainingMs(deadline));
      if (left <= 0) throw new GatewayError(ErrorCode.UPSTREAM_TIMEOUT, 'The operation ran out of time while another replica was asking the upstream.');
      try {
        await sleep(left, undefined, { signal });
      } catch {
        // Left while waiting (every caller gone, the deadline): a coded error, as everywhere else.
        throw classifyTransportError(signal.reason);
      }
    }
  };

  return {
    stage,
    fromRedis: (answer) => {
      const expiresAt = fromRedis.get(answer);
      return expiresAt === undefined ? undefined : Math.max(0, expiresAt - performance.now());
    },
  };
}
