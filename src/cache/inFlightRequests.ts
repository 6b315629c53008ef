import type { IncomingMessage } from 'node:http';
import type { CredentialsOf } from './requestKey';
import { requestKey } from './requestKey';
import type { ShareVerdict } from './reusePolicy';
import type { ApolloAnswer } from './wholeResponseCache';

/** A leader's answer, handed to the identical requests that waited for it. */
export interface SharedAnswer {
  readonly body: string;
  /** Apollo's own headers for it (`content-type`, `cache-control` …); per-request ones are each request's. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The operation it answered (for the waiter's log line and metrics). */
  readonly operationName: string | null;
  /** Whether the upstream accepted the credentials (the waiter's too) during the leader's operation. */
  readonly credentialsAccepted: boolean;
}

export interface InFlightRequestsOptions<TContext> {
  readonly credentialsOf: CredentialsOf;
  /** Asked once the leader's 200 answer is final: `undefined` when it may not be shared. */
  readonly shareable: (context: TContext) => ShareVerdict | undefined;
  /** Called when a waiter is answered with a leader's answer. */
  readonly onShared?: (answer: SharedAnswer) => void;
}

/** The leader's side of a flight: `finish` exactly once, with the final answer or `undefined`. */
export interface Flight<TContext> {
  finish(context: TContext | undefined, answer: ApolloAnswer | undefined): void;
}

/** The HTTP server's view of the in-flight requests. */
export interface InFlightRequests<TContext> {
  /** The request's key, or `undefined` when it must execute on its own (no usable credentials). */
  keyOf(request: IncomingMessage, search: string, bodyText: string): string | undefined;
  /**
   * `undefined` when no identical request is in flight (the caller then leads); else the leader's
   * answer once final and shareable, or `undefined` (the waiter then executes on its own).
   */
  follow(key: string, signal: AbortSignal): Promise<SharedAnswer | undefined> | undefined;
  /** Registers the request as the one executing for `key`; identical requests arriving meanwhile follow it. */
  lead(key: string): Flight<TContext>;
  /** Keys with a leader in flight. */
  readonly size: number;
}

interface Waiters {
  readonly resolvers: Set<(answer: SharedAnswer | undefined) => void>;
}

/**
 * HTTP coalescing: identical requests of the same caller in flight at the same moment share one
 * execution (else many clients polling one page run the same GraphQL work back to back on the one
 * thread). Nothing is kept once the answer is handed over, so it is on whatever the TTLs. Only a
 * complete 200 without errors from a leader whose client stayed is shared; anything else releases
 * the waiters to execute on their own. Entries live only while their leader executes.
 */
export function createInFlightRequests<TContext>(options: InFlightRequestsOptions<TContext>): InFlightRequests<TContext> {
  const flights = new Map<string, Waiters>();
  return {
    keyOf(request, search, bodyText) {
      return requestKey(options.credentialsOf, request, search, bodyText);
    },
    follow(key, signal) {
      const flight = flights.get(key);
      if (flight === undefined) return undefined;
      return new Promise<SharedAnswer | undefined>((resolve) => {
        if (signal.aborted) {
          resolve(undefined);
          return;
        }
        const settle = (answer: SharedAnswer | undefined) => {
          flight.resolvers.delete(settle);
          signal.removeEventListener('abort', leave);
          resolve(answer);
        };
        const leave = () => settle(undefined);
        flight.resolvers.add(settle);
        signal.addEventListener('abort', leave, { once: true });
      }).then((answer) => {
        if (answer !== undefined) options.onShared?.(answer);
        return answer;
      });
    },
    lead(key) {
      const flight: Waiters = { resolvers: new Set() };
      flights.set(key, flight);
      let finished = false;
      return {
        finish(context, answer) {
          if (finished) return;
          finished = true;
          if (flights.get(key) === flight) flights.delete(key);
          if (flight.resolvers.size === 0) return;
          const shared = shareableAnswer(options, context, answer);
          for (const settle of [...flight.resolvers]) settle(shared);
        },
      };
    },
    get size() {
      return flights.size;
    },
  };
}

function shareableAnswer<TContext>(options: InFlightRequestsOptions<TContext>, context: TContext | undefined, answer: ApolloAnswer | undefined): SharedAnswer | undefined {
  if (context === undefined || answer === undefined || answer.status !== 200) return undefined;
  const verdict = options.shareable(context);
  if (verdict === undefined) return undefined;
  return { body: answer.body, headers: [...answer.headers], operationName: verdict.operationName, credentialsAccepted: verdict.credentialsAccepted };
}
