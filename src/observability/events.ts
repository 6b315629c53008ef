/** The upstream routes the gateway calls: the `route` label's values, and what its events name. */
export const UPSTREAM_ROUTES = ['listEngines', 'getEngine', 'listJobs', 'getJob'] as const;
export type Route = (typeof UPSTREAM_ROUTES)[number];

/**
 * What the upstream layer reports as it works. The resilience and caching components emit these;
 * metrics and per-operation log lines consume them. One process-wide sink (metrics) and one per
 * operation (counts for the operation's log line) receive the same events.
 */
export interface UpstreamEvents {
  /** One HTTP attempt ended (a retried call reports each attempt). */
  attempt?(event: {
    route: Route;
    /** HTTP status, when an answer arrived. */
    status: number | undefined;
    durationMs: number;
    outcome: 'ok' | 'not-found' | 'error';
    /** 0 for the first attempt, 1 for the first retry … */
    attempt: number;
  }): void;
  /** An upstream answer cache lookup; a hit says how long the answer it served had left to live. */
  cache?(event: { route: Route; hit: boolean; ttlLeftMs?: number }): void;
  /** A call that joined an identical call already in flight instead of making its own. */
  joined?(event: { route: Route }): void;
  /** A circuit breaker changed state. */
  breaker?(event: { scope: 'upstream' | 'engine'; state: 'closed' | 'open' | 'half-open' }): void;
  /** Upstream requests in flight in the whole process changed. */
  inFlight?(count: number): void;
  /** A call refused because too many were in flight or queued (load shedding). */
  shed?(event: { route: Route }): void;
}

const EVENT_NAMES = ['attempt', 'cache', 'joined', 'breaker', 'inFlight', 'shed'] as const;

/** Sends every event to each sink that listens for it. */
export function fanOutEvents(...sinks: Array<UpstreamEvents | undefined>): UpstreamEvents {
  const present = sinks.filter((sink): sink is UpstreamEvents => sink !== undefined);
  const fanOut = (name: (typeof EVENT_NAMES)[number]) => (event: unknown) => {
    for (const sink of present) (sink[name] as ((event: unknown) => void) | undefined)?.(event);
  };
  return Object.fromEntries(EVENT_NAMES.map((name) => [name, fanOut(name)])) as UpstreamEvents;
}
