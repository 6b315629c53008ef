/**
 * Freezes a parsed JSON value and everything in it. Answers that are shared — between the
 * operations of one single flight, or read again from the cache — are frozen, so no caller can
 * change what the next one sees; an attempt to do so throws (strict mode) instead of leaking.
 *
 * Iterative, with a stack of its own: the upstream decides how deep its bodies nest, and a
 * recursive walk overflowed the call stack on a body nested a few thousand levels deep.
 */
export function deepFreeze<T>(value: T): T {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== 'object' || next === null || Object.isFrozen(next)) continue;
    Object.freeze(next);
    if (Array.isArray(next)) {
      for (const item of next) if (typeof item === 'object' && item !== null) pending.push(item);
    } else {
      for (const key of Object.keys(next)) {
        const item = (next as Record<string, unknown>)[key];
        if (typeof item === 'object' && item !== null) pending.push(item);
      }
    }
  }
  return value;
}
