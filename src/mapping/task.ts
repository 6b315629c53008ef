/**
 * Pure accessors over the upstream's task objects, for the thin Task resolvers.
 */
import type { CseTask } from '../upstream/types';

/**
 * Whether the task timed out. The upstream documents `timeout` only as "whether the sub-job timed
 * out" and its example shows -1, so only 1 means yes; -1, 0, a missing value or anything else
 * means no.
 */
export function taskTimedOut(task: Pick<CseTask, 'timeout'>): boolean {
  return task.timeout === 1;
}

/**
 * A task's `output` for the `JSON` scalar: the parsed value when the text is JSON (it usually
 * is, `{}` by default), otherwise the text itself, so nothing the upstream wrote is lost.
 * `null` when there is no output.
 *
 * Plain `JSON.parse` on purpose: output is opaque executor detail, not ids the gateway must keep
 * exact, and the lossless parser would cost more on every task.
 */
export function taskOutput(raw: string | null | undefined): unknown {
  if (raw === null || raw === undefined) return null;
  // Not validated deeply upstream: an output that already arrived as a JSON value is kept as is.
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
