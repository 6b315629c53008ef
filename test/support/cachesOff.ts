/**
 * The environment that turns every cache of upstream answers off (and with them the whole-response
 * cache, which never outlives the shortest of them), for tests and benchmarks that count upstream
 * calls per operation: identical calls in flight at the same moment are still made once.
 */
export const CACHES_OFF: Readonly<Record<string, string>> = Object.freeze({
  CACHE_LIST_TTL_MS: '0',
  CACHE_ENGINE_TTL_MS: '0',
  CACHE_JOB_TTL_MS: '0',
  CACHE_TERMINAL_JOB_TTL_MS: '0',
});
