import { randomUUID } from 'node:crypto';
import { sleepUnlessAborted, type AbortSignalLike } from '../../cache/abort';
import { deepFreeze } from '../../cache/deepFreeze';
import { isCacheable, ttlOf, type CacheTtls, type Freshness } from '../../cache/freshness';
import { UNAVAILABLE, type Lease } from '../../cache/secondLevel';
import type { SecondLevel, SharedCall } from '../../cache/secondLevel';
import type { FlightState, SingleFlight } from '../../cache/SingleFlight';
import type { CallerShareCache } from '../../cache/CallerShareCache';
import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';
import type { CredentialGate } from '../CredentialGate';
import { AnswerOutgrewRoom, classifyFailure, credentialVerdictOf, throwClassified } from '../errorMapping';
import { isTerminalJob } from '../jobStatus';
import type { Route } from '../../observability/events';
import { NEVER, remainingMs, type CallHandler, type CallRequest, type CallStage } from './types';
import type { UpstreamAnswer } from './types';

const ROUTE_FRESHNESS: Readonly<Record<Route, Freshness>> = {
  listEngines: 'list',
  listJobs: 'list',
  getEngine: 'engine',
  getJob: 'job',
};

export function ttlFor(route: Route, body: unknown, ttls: CacheTtls): number {
  return ttlOf(ROUTE_FRESHNESS[route], ttls, isTerminalJob(body));
}

export function isRouteCacheable(route: Route, ttls: CacheTtls): boolean {
  return isCacheable(ROUTE_FRESHNESS[route], ttls);
}

export interface CachedAnswer {
  readonly answer: UpstreamAnswer;
  readonly generation: number;
}

// Only "ok" answers are kept, so something that appears is seen at once.
export function cacheStage(
  cache: CallerShareCache<CachedAnswer>,
  ttls: CacheTtls,
  gate: CredentialGate,
  fromSecondLevel?: (answer: UpstreamAnswer) => number | undefined,
): CallStage {
  return (next) => async (call) => {
    if (!isRouteCacheable(call.route, ttls)) return next(call);
    const current = gate.generation(call.digest);
    const stored = current === undefined || call.request.fresh === true ? undefined : cache.get(call.key);
    if (stored !== undefined && stored.generation === current) {
      call.events.cache?.({ route: call.route, hit: true, ttlLeftMs: cache.ttlLeftMs(call.key) });
      return stored.answer;
    }
    // With a second level the miss is told after the call: Redis may still hit.
    if (fromSecondLevel === undefined) call.events.cache?.({ route: call.route, hit: false });
    let answer: UpstreamAnswer;
    try {
      answer = await next(call);
    } catch (error) {
      if (credentialVerdictOf(error) === 'denied') cache.delete(call.key);
      throw error;
    }
    const ttlLeftMs = fromSecondLevel?.(answer);
    if (fromSecondLevel !== undefined) {
      const { route } = call;
      call.events.cache?.(ttlLeftMs === undefined ? { route, hit: false } : { route, hit: true, ttlLeftMs });
    }
    const generation = gate.generation(call.digest);
    // A fresh answer replaces what is kept; otherwise a concurrent call may have stored it already.
    const stale = call.request.fresh === true || cache.get(call.key)?.generation !== generation;
    if (answer.kind === 'ok' && generation !== undefined && stale) {
      const ttlMs = Math.min(ttlFor(call.route, answer.body, ttls), ttlLeftMs ?? Number.POSITIVE_INFINITY);
      // The in-process level keeps the body once, parsed.
      const { text, ...parsed } = answer;
      const kept = deepFreeze(text === undefined ? answer : parsed);
      cache.set(call.key, { answer: kept, generation }, { ttlMs, bytes: answer.bytes, caller: call.caller });
    }
    return answer;
  };
}

/**
 * The stages inside see the flight's signal; only a shared answer is frozen (freezing walks the page). A
 * flight runs to the deadline of the call that began it, within the room its operation holds for the
 * answer: one that joined it and has time left when it ends out of time or of room asks again, with its own.
 */
export function singleFlightStage(flights: SingleFlight<UpstreamAnswer>): CallStage {
  return (next) => async (call) => {
    const { room } = call;
    const start = async (signal: AbortSignalLike, flight: FlightState) => {
      const flightRoom = room === undefined ? undefined : { fits: (bytes: number) => room.fits(bytes, flight.participants > 1) };
      const answer = await next({ ...call, signal, room: flightRoom });
      return flight.shared ? deepFreeze(answer) : answer;
    };
    for (;;) {
      let joinedAnother = false;
      const joined = () => {
        joinedAnother = true;
        call.events.joined?.({ route: call.route });
      };
      try {
        return await flights.run(call.key, call.signal, start, joined);
      } catch (error) {
        // A caller who stops waiting is rejected with its signal's reason: still a coded error.
        if (call.signal?.aborted === true && error === call.signal.reason) throw classifyFailure({ thrown: error }).error;
        // Out of the time or room of the caller that began the flight: a joiner with time left asks again.
        const outOfTime = error instanceof GatewayError && error.code === ErrorCode.UPSTREAM_TIMEOUT;
        const flightsOwn = outOfTime || error instanceof AnswerOutgrewRoom;
        if (!joinedAnother || !flightsOwn || remainingMs(call.request.deadline) <= 0) throw error;
      }
    }
  };
}

const FLIGHT_POLL_MS = 10;

/** A dead holder's lease lapses and a waiter takes over; errors are not handed over. */
export function secondLevelStage(
  level: SecondLevel<UpstreamAnswer>,
  ttls: CacheTtls,
  gate: CredentialGate,
): { stage: CallStage; fromSecondLevel: (answer: UpstreamAnswer) => number | undefined } {
  /** Answers found in the second level → when they expire (performance.now()). */
  const expiries = new WeakMap<object, number>();

  const hold = async (call: CallRequest, next: CallHandler, target: SharedCall, lease: Lease) => {
    const release = lease.token === '' ? undefined : level.hold(target, lease);
    const began = gate.currentGeneration(call.digest);
    let answer: UpstreamAnswer | undefined;
    try {
      answer = await next(call);
      return answer;
    } finally {
      release?.();
      const ttlMs = target.cacheable && answer?.kind === 'ok' ? ttlFor(call.route, answer.body, ttls) : 0;
      // Not awaited: the caller has its answer; a replica asking meanwhile finds the lease held. A
      // refusal on another replica while the call ran found no vouch to tell the fleet by: this
      // replica, which has just accepted the scope, forgets it itself (unless it has since).
      const settled = level.settle(target, lease, answer, ttlMs);
      void settled.then((current) => current || gate.currentGeneration(call.digest) !== began || gate.refusedElsewhere(call.digest));
    }
  };

  const stage: CallStage = (next) => async (call) => {
    const target = level.call(call.digest, call.key, isRouteCacheable(call.route, ttls), call.caller);
    if (call.request.fresh === true) {
      if (!target.cacheable) return next(call);
      const lease = await level.generation(call.digest);
      return lease === UNAVAILABLE ? next(call) : hold(call, next, target, lease);
    }
    const signal = call.signal ?? NEVER;
    const token = randomUUID();
    const generation = gate.currentGeneration(call.digest);
    let holder: string | undefined;
    for (;;) {
      const looked = await level.lookup(target, token, holder);
      if (looked === UNAVAILABLE) return next(call);
      switch (looked.state) {
        case 'hit':
          // Else a replica whose every answer comes from Redis would never keep one in its own level.
          gate.acceptedElsewhere(call, looked.acceptedLeftMs, generation);
          expiries.set(looked.answer, performance.now() + looked.ttlLeftMs);
          return looked.answer;
        case 'lease':
          return hold(call, next, target, looked.lease);
        case 'handed':
          if (looked.answer === undefined) return next(call);
          call.events.joined?.({ route: call.route });
          return looked.answer;
        case 'wait':
          holder = looked.holder;
      }
      const left = Math.min(FLIGHT_POLL_MS, remainingMs(call.request.deadline));
      if (left <= 0) {
        const message = 'The operation ran out of time while another replica was asking the upstream.';
        throw new GatewayError(ErrorCode.UPSTREAM_TIMEOUT, message);
      }
      await sleepUnlessAborted(left, signal).catch(() => throwClassified(signal.reason));
    }
  };

  return {
    stage,
    fromSecondLevel: (answer) => {
      const expiresAt = expiries.get(answer);
      return expiresAt === undefined ? undefined : Math.max(0, expiresAt - performance.now());
    },
  };
}
