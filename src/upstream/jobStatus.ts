/** The key upstream enum values are compared by: `PreInit`, `PRE_INIT` and `pre-init` are one value. */
export function normaliseUpstreamValue(raw: string): string {
  return raw.replace(/[\s_-]+/g, '').toLowerCase();
}

/** Statuses after which the upstream never changes a job again. */
const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['finished', 'error', 'timeout']);

/** Whether an upstream job is in a status that never changes again; an unknown status is not. */
export function isTerminalJob(job: unknown): boolean {
  if (typeof job !== 'object' || job === null) return false;
  const status = (job as { status?: unknown }).status;
  return typeof status === 'string' && TERMINAL_STATUSES.has(normaliseUpstreamValue(status));
}
