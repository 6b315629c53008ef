export const ANONYMOUS_OPERATION = '(anonymous)';
/** Past the bound, or a name not safe as a label. */
export const OTHER_OPERATION = '(other)';
/** Unparseable, invalid, or refused before resolving (no token). */
export const UNRESOLVED_OPERATION = '(unresolved)';
/** Not vouched for (OperationFacts.nameVouched): any caller can send any name. */
export const UNVERIFIED_OPERATION = '(unverified)';

/** A federation router's fetch (`Dashboard__cse__0`), labelled by its client operation's name. */
const ROUTER_FETCH = /^(.+)__((?:(?!__)[A-Za-z0-9_-])+)__\d+$/;

export function clientOperationName(name: string): string {
  return ROUTER_FETCH.exec(name)?.[1] ?? name;
}

const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Each label is a series: a name only while safe and one of the first `maxNames` vouched for, so made-up
 * tokens' names cannot push real operations into `(other)`; accepted callers invent names too: the bound. */
export function createOperationLabeler(maxNames: number) {
  const known = new Set<string>();
  return (given: string | null | undefined, resolved: boolean, vouched: boolean): string => {
    if (!resolved) return UNRESOLVED_OPERATION;
    if (given === null || given === undefined || given === '') return ANONYMOUS_OPERATION;
    if (!vouched) return UNVERIFIED_OPERATION;
    const name = clientOperationName(given);
    if (!SAFE_NAME.test(name)) return OTHER_OPERATION;
    if (!known.has(name) && known.size >= maxNames) return OTHER_OPERATION;
    known.add(name);
    return name;
  };
}
