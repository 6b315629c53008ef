/**
 * Harness env without the upstream response cache: tests that count upstream calls per
 * operation must not see answers cached by an earlier operation.
 */
export const NO_RESPONSE_CACHE: Record<string, string> = {
  CACHE_LIST_TTL_MS: '0',
  CACHE_ENGINE_TTL_MS: '0',
  CACHE_JOB_TTL_MS: '0',
  CACHE_TERMINAL_JOB_TTL_MS: '0',
};
