/** The `route` label's values. */
export const UPSTREAM_ROUTES = ['listEngines', 'getEngine', 'listJobs', 'getJob'] as const;
export type Route = (typeof UPSTREAM_ROUTES)[number];
/**
 * The `status` label's values of a failed attempt the alerts count and the upstream layer names
 * (throttled, unavailable, timed out, no answer): their series exist at 0 from the start.
 */
export const UPSTREAM_FAILURE_STATUSES = ['429', '500', '502', '503', '504', 'none'] as const;

/** The statuses the upstream documents, each its own `status` label; any other is its class (`3xx`). */
const DOCUMENTED_STATUSES = new Set([200, 400, 401, 403, 404, 429, 500, 502, 503, 504]);

/** A closed set of labels, whatever status a hostile or broken upstream answers. */
export function statusLabel(status: number | undefined): string {
  if (status === undefined) return 'none';
  if (DOCUMENTED_STATUSES.has(status)) return String(status);
  return status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : 'other';
}

/** What the upstream layer reports: to the process's sink (metrics, readiness) and the operation's own. */
export interface UpstreamEvents {
  /** Each attempt of a retried call. */
  attempt?(event: {
    route: Route;
    status: number | undefined;
    durationMs: number;
    outcome: 'ok' | 'not-found' | 'error';
    attempt: number;
  }): void;
  cache?(event: { route: Route; hit: boolean; ttlLeftMs?: number }): void;
  /** A call that joined an identical one in flight. */
  joined?(event: { route: Route }): void;
  breaker?(event: { scope: 'upstream' | 'engine'; state: 'closed' | 'open' | 'half-open' }): void;
  /** In the whole process. */
  inFlight?(count: number): void;
  /** Refused: too many in flight or queued. */
  shed?(event: { route: Route }): void;
}

const EVENT_NAMES = ['attempt', 'cache', 'joined', 'breaker', 'inFlight', 'shed'] as const;

export function fanOutEvents(...sinks: Array<UpstreamEvents | undefined>): UpstreamEvents {
  const present = sinks.filter((sink): sink is UpstreamEvents => sink !== undefined);
  const fanOut = (name: (typeof EVENT_NAMES)[number]) => (event: unknown) => {
    for (const sink of present) (sink[name] as ((event: unknown) => void) | undefined)?.(event);
  };
  return Object.fromEntries(EVENT_NAMES.map((name) => [name, fanOut(name)])) as UpstreamEvents;
}
