/**
 * Metrics labels for operation names. Operation names come from callers, so they are an
 * unbounded set: every distinct label value is a new time series in Prometheus. A label is the
 * operation's own name only while the name is safe and one of the first `maxNames` distinct
 * names vouched for (see createOperationLabeler); everything else collapses into one of four fixed labels.
 */

/** An operation without a name (`{ engines { … } }`). */
export const ANONYMOUS_OPERATION = '(anonymous)';
/** A named operation past the bound, or with a name that is not safe as a label. */
export const OTHER_OPERATION = '(other)';
/** A request that never resolved to a valid operation: unparseable, invalid, or refused before (no token). */
export const UNRESOLVED_OPERATION = '(unresolved)';
/**
 * A named operation whose caller the upstream did not accept during it (no call, or 401/403), and
 * that is not on the persisted query list: anyone can send a name with a made-up token.
 */
export const UNVERIFIED_OPERATION = '(unverified)';

/**
 * A federation router's name for its fetch of one client operation from this subgraph:
 * `<client operation>__<subgraph>__<fetch index>` (the query planner's naming, e.g.
 * `Dashboard__cse__0`). Labelled by the client operation's name, so a router's fetches do not
 * use up the bound with one name per subgraph and fetch.
 */
const ROUTER_FETCH = /^(.+)__((?:(?!__)[A-Za-z0-9_-])+)__\d+$/;

/** The client operation's name of a router fetch; any other name as it is. */
export function clientOperationName(name: string): string {
  return ROUTER_FETCH.exec(name)?.[1] ?? name;
}

/** GraphQL names, with a length bound of our own (the spec has none). */
const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Returns the labeller of one metrics registry. Only operations that resolved against the schema
 * and whose name is vouched for — the upstream accepted the caller's credentials during the
 * operation, or the operation is on the persisted query list — take a slot: a caller sending
 * garbage, or valid operations under invented names with a made-up token, cannot use up the bound
 * and push the real operations into `(other)`. Callers the upstream accepts can still invent
 * names, which is why the bound exists at all.
 */
export function createOperationLabeler(maxNames: number): (name: string | null | undefined, resolved: boolean, vouched: boolean) => string {
  const known = new Set<string>();
  return (given, resolved, vouched) => {
    if (!resolved) return UNRESOLVED_OPERATION;
    if (given === null || given === undefined || given === '') return ANONYMOUS_OPERATION;
    if (!vouched) return UNVERIFIED_OPERATION;
    const name = clientOperationName(given);
    if (!SAFE_NAME.test(name)) return OTHER_OPERATION;
    if (known.has(name)) return name;
    if (known.size >= maxNames) return OTHER_OPERATION;
    known.add(name);
    return name;
  };
}
