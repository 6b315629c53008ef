import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';
import type { FleetFlight } from '../../redis/FleetFlight';
import { classifyTransportError } from '../errorMapping';
import type { CallStage } from './types';

const NEVER = new AbortController().signal;

/**
 * With Redis, behind the in-process single flight: the one call a replica makes for all its
 * callers is made once for the whole fleet (see FleetFlight). A subscription's poll (`fresh`)
 * goes its own way: it exists to see the upstream now, not an answer another replica is about to
 * hand over.
 */
export function fleetFlightStage(flight: FleetFlight): CallStage {
  return (next) => async (call) => {
    if (call.request.fresh === true) return next(call);
    const signal = call.signal ?? NEVER;
    try {
      return await flight.run(
        call.digest,
        call.key,
        signal,
        call.request.deadline,
        () => next(call),
        () => call.events.coalesced?.({ route: call.route }),
        () => new GatewayError(ErrorCode.UPSTREAM_TIMEOUT, 'The operation ran out of time while another replica was asking the upstream.'),
      );
    } catch (error) {
      // Left while waiting (every caller gone, the deadline): a coded error, as everywhere else.
      if (signal.aborted && error === signal.reason) throw classifyTransportError(error);
      throw error;
    }
  };
}
