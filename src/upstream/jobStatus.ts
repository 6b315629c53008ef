/** `PreInit`, `PRE_INIT` and `pre-init` are one value. */
export function normaliseUpstreamValue(raw: string): string {
  return raw.replace(/[\s_-]+/g, '').toLowerCase();
}

/** Statuses after which the upstream never changes a job again. */
const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['finished', 'error', 'timeout']);

export function isTerminalJob(job: unknown): boolean {
  if (typeof job !== 'object' || job === null) return false;
  const status = (job as { status?: unknown }).status;
  return typeof status === 'string' && TERMINAL_STATUSES.has(normaliseUpstreamValue(status));
}
