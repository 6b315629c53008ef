/**
 * Pure accessors over the upstream's task objects, for the thin Task resolvers.
 */
import { ErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
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
 * How deep a task's output may nest to be answered as JSON. The response is written with
 * `JSON.stringify`, which recurses: a few thousand levels overflow its stack and fail the whole
 * response, and the upstream decides how deep an output nests.
 */
export const MAX_OUTPUT_DEPTH = 64;

/**
 * A task's `output` for the `JSON` scalar: the parsed value when the text is JSON (it usually
 * is, `{}` by default) nested at most {@link MAX_OUTPUT_DEPTH} levels, otherwise the text itself,
 * so nothing the upstream wrote is lost. `null` when there is no output.
 *
 * Plain `JSON.parse` on purpose: output is opaque executor detail, not ids the gateway must keep
 * exact, and the lossless parser would cost more on every task.
 *
 * @throws {GatewayError} UPSTREAM_BAD_RESPONSE for an output that arrived as a JSON value (not
 *   text) nested deeper than that: there is no text to fall back on
 */
export function taskOutput(raw: string | null | undefined): unknown {
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== 'string') {
    // Not validated deeply upstream: an output that already arrived as a JSON value is kept as is.
    if (nestsDeeperThan(raw, MAX_OUTPUT_DEPTH)) {
      throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 'The upstream sent a task output nested too deeply to answer.');
    }
    return raw;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return raw;
  }
  return nestsDeeperThan(parsed, MAX_OUTPUT_DEPTH) ? raw : parsed;
}

/** Whether a parsed JSON value has arrays or objects nested more than `limit` levels deep; iterative. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [next, depth] = pending.pop()!;
    if (typeof next !== 'object' || next === null) continue;
    if (depth >= limit) return true;
    const items = Array.isArray(next) ? next : Object.values(next);
    for (const item of items) if (typeof item === 'object' && item !== null) pending.push([item, depth + 1]);
  }
  return false;
}
