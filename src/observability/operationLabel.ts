/**
 * Metrics labels for operation names. Names come from callers, an unbounded set, and every
 * distinct label value is a new time series: a label is the operation's own name only while the
 * name is safe and one of the first `maxNames` vouched for; everything else takes a fixed label.
 */

/** An operation without a name (`{ engines { … } }`). */
export const ANONYMOUS_OPERATION = '(anonymous)';
/** A named operation past the bound, or with a name that is not safe as a label. */
export const OTHER_OPERATION = '(other)';
/** A request that never resolved to a valid operation: unparseable, invalid, or refused before (no token). */
export const UNRESOLVED_OPERATION = '(unresolved)';
/** A named operation not vouched for (OperationFacts.nameVouched): any caller can send any name. */
export const UNVERIFIED_OPERATION = '(unverified)';

/**
 * A federation router's name for its fetch of one client operation from this subgraph:
 * `<client operation>__<subgraph>__<fetch index>` (e.g. `Dashboard__cse__0`), labelled by the
 * client operation's name so a router's fetches do not use up the bound.
 */
const ROUTER_FETCH = /^(.+)__((?:(?!__)[A-Za-z0-9_-])+)__\d+$/;

/** The client operation's name of a router fetch; any other name as it is. */
export function clientOperationName(name: string): string {
  return ROUTER_FETCH.exec(name)?.[1] ?? name;
}

/** GraphQL names, with a length bound of our own (the spec has none). */
const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * The labeller of one metrics registry. Only resolved operations with a vouched-for name take a
 * slot, so garbage or invented names with a made-up token cannot push the real operations into
 * `(other)`; callers the upstream accepts can still invent names, hence the bound.
 */
export function createOperationLabeler(maxNames: number) {
  const known = new Set<string>();
  return (given: string | null | undefined, resolved: boolean, vouched: boolean): string => {
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
