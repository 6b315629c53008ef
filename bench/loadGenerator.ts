import autocannon from 'autocannon';
import type { HttpAsk } from './scenarios';

export interface LoadSpec {
  /** The target's origin, e.g. `http://127.0.0.1:4321`. */
  origin: string;
  connections: number;
  /** Run for this long, cutting off the requests in flight at the end … */
  durationSec: number;
  /**
   * … or, when set, until exactly this many requests have been answered (each connection sends
   * its share, then stops): nothing is cut off, so upstream calls per operation are exact.
   * `durationSec` then only bounds a run that turns out far slower than expected (×4 + 2 s).
   */
  amount?: number;
  /** Called for every request: a fixed ask returns the same object each time. */
  next: () => HttpAsk;
}

export interface LoadResult {
  /** Completed requests (any status). */
  completed: number;
  /** Requests written to a socket: completed plus those cut off when the duration ended. */
  sent: number;
  durationSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/**
 * One closed-loop run: `connections` clients each send a request as soon as the previous answer
 * arrived. autocannon (not a hand-made loop) because its latency histogram is HDR-based and it
 * keeps the generator's own cost per request low.
 */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const instance = autocannon({
    url: spec.origin,
    connections: spec.connections,
    ...(spec.amount === undefined ? { duration: spec.durationSec } : { amount: spec.amount }),
    timeout: 30,
    // autocannon notices the end of `duration` only at its next sample tick (default 1 s, which
    // would stretch a 1.2 s run to 2 s); req/s is computed from the totals, not the samples.
    sampleInt: 100,
    requests: [
      {
        // Called before every request; autocannon re-encodes the request only when it is set.
        setupRequest: (request) => {
          const ask = spec.next();
          request.method = ask.method;
          request.path = ask.path;
          request.headers = ask.headers;
          request.body = ask.body;
          return request;
        },
      },
    ],
    // Without a callback autocannon returns its tracker made thenable; the types only say Promise.
  }) as Promise<autocannon.Result> & { stop(): void };
  const guard = spec.amount === undefined ? undefined : setTimeout(() => instance.stop(), (spec.durationSec * 4 + 2) * 1000);
  const result = await instance;
  clearTimeout(guard);
  return {
    completed: result.requests.total,
    sent: result.requests.sent,
    durationSec: result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    // `errors` already includes timeouts.
    errors: result.non2xx + result.errors,
  };
}
