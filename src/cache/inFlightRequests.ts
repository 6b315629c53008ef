import type { ShareVerdict } from './reusePolicy';
import type { ApolloAnswer } from './wholeResponseCache';

/** A leader's answer for the identical requests that waited, with Apollo's headers (per-request ones are theirs). */
export interface SharedAnswer extends ShareVerdict {
  readonly body: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

type Settle = (answer: SharedAnswer | undefined) => void;

/**
 * HTTP coalescing: identical requests of the same caller (keys: requestKey) in flight at the same
 * moment share one execution (else many clients polling one page run the same GraphQL work back to
 * back on the one thread). Only a complete 200 without errors from a leader whose client stayed is
 * shared (`shareable`); anything else releases the waiters to execute on their own. Entries live
 * only while their leader executes, so it is on whatever the TTLs.
 */
export function createInFlightRequests<TContext>(shareable: (context: TContext) => ShareVerdict | undefined) {
  const flights = new Map<string, Set<Settle>>();
  return {
    /** `undefined` with no leader in flight (the caller then leads); else the leader's answer, if shared. */
    follow(key: string, signal: AbortSignal): Promise<SharedAnswer | undefined> | undefined {
      const waiters = flights.get(key);
      if (waiters === undefined) return undefined;
      return new Promise((resolve) => {
        if (signal.aborted) return resolve(undefined);
        const settle: Settle = (answer) => {
          waiters.delete(settle);
          signal.removeEventListener('abort', leave);
          resolve(answer);
        };
        const leave = () => settle(undefined);
        waiters.add(settle);
        signal.addEventListener('abort', leave, { once: true });
      });
    },
    /** Registers the request as the one executing for `key`: `finish` at least once (later calls are no-ops). */
    lead(key: string) {
      const waiters = new Set<Settle>();
      flights.set(key, waiters);
      return {
        finish(context: TContext | undefined, answer: ApolloAnswer | undefined): void {
          if (flights.get(key) !== waiters) return;
          flights.delete(key);
          if (waiters.size === 0) return;
          const verdict = context === undefined || answer?.status !== 200 ? undefined : shareable(context);
          const shared = verdict === undefined ? undefined : { ...verdict, body: answer!.body, headers: [...answer!.headers] };
          for (const settle of [...waiters]) settle(shared);
        },
      };
    },
    /** Keys with a leader in flight. */
    get size(): number {
      return flights.size;
    },
  };
}

export type InFlightRequests<TContext> = ReturnType<typeof createInFlightRequests<TContext>>;
export type Flight<TContext> = ReturnType<InFlightRequests<TContext>['lead']>;
