import { classifyTransportError } from '../errorMapping';
import { deepFreeze } from '../cache/deepFreeze';
import type { SingleFlight } from '../cache/SingleFlight';
import type { UpstreamAnswer } from '../exchange';
import type { CallStage } from './types';

/**
 * Identical calls in flight at once (same credential scope and URL) are made once; everyone gets
 * the answer or the error. The stages inside see the flight's signal, which aborts only when every
 * caller has left, and the first caller's deadline.
 *
 * A shared answer is frozen, so no operation can change what another sees; one that only its own
 * operation sees is left as parsed: freezing costs a walk of the whole page, for nobody's benefit
 * there (bench/README.md, "Measured reasons").
 */
export function singleFlightStage(flights: SingleFlight<UpstreamAnswer>): CallStage {
  return (next) => async (call) => {
    try {
      return await flights.run(
        call.key,
        call.signal,
        async (signal, flight) => {
          const answer = await next({ ...call, signal });
          return flight.shared ? deepFreeze(answer) : answer;
        },
        () => call.events.coalesced?.({ route: call.route }),
      );
    } catch (error) {
      // A caller who stops waiting (deadline, client gone) is rejected with its signal's reason,
      // a DOMException: it still leaves as a coded error (UPSTREAM_TIMEOUT), never unmasked.
      if (call.signal?.aborted === true && error === call.signal.reason) throw classifyTransportError(error);
      throw error;
    }
  };
}
