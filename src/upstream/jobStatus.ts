/**
 * Job statuses as the upstream spells them, read in upstream terms: what the caches need to know
 * (is this job done?) without reaching up into the GraphQL mapping.
 */

/**
 * The key upstream enum values are compared by: the upstream's spellings drift (`PreInit`,
 * `PRE_INIT`, `pre-init`), and all of them are one value.
 */
export function normaliseUpstreamValue(raw: string): string {
  return raw.replace(/[\s_-]+/g, '').toLowerCase();
}

/** Statuses after which the upstream never changes a job again. */
const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['finished', 'error', 'timeout']);

/**
 * Whether a job (an upstream job body, or anything else) is in a status that never changes again.
 * A job still running, a missing status, or one nobody documented is not: an unknown status might
 * be anything, so it is never assumed final.
 */
export function isTerminalJob(job: unknown): boolean {
  if (typeof job !== 'object' || job === null) return false;
  const status = (job as { status?: unknown }).status;
  return typeof status === 'string' && TERMINAL_STATUSES.has(normaliseUpstreamValue(status));
}
