import type { AbortSignalLike } from './abort';
import type { ShareVerdict } from './reusePolicy';
import type { ApolloAnswer, CachedResponse } from './wholeResponseCache';

/** A leader's answer with Apollo's headers (the per-request ones are each waiter's own). */
type SharedAnswer = ShareVerdict & Pick<CachedResponse, 'body' | 'headers'>;

type Settle = (answer: SharedAnswer | undefined) => void;

// Whatever the TTLs: clients polling one page would run its work back to back on the one thread.
// Unless `shareable` allows the 200, the waiters execute on their own.
export function createInFlightRequests<TContext>(shareable: (context: TContext) => ShareVerdict | undefined) {
  const flights = new Map<string, Set<Settle>>();
  return {
    /** `undefined` with no leader in flight (the caller then leads); else the leader's answer, if shared. */
    follow(key: string, signal: AbortSignalLike): Promise<SharedAnswer | undefined> | undefined {
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
    /** The leader must `finish` at least once (later calls are no-ops). */
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
  };
}

export type InFlightRequests<TContext> = ReturnType<typeof createInFlightRequests<TContext>>;
export type Flight<TContext> = ReturnType<InFlightRequests<TContext>['lead']>;
