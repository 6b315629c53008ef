/**
 * Freezes a parsed JSON value and everything in it. Answers that are shared — between the
 * operations of one single flight, or read again from the cache — are frozen, so no caller can
 * change what the next one sees; an attempt to do so throws (strict mode) instead of leaking.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
