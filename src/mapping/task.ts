import type { AbortSignalLike } from '../cache/abort';
import { ErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
import { parseJsonInTurns } from '../upstream/parseJson';
import type { CseTask } from '../upstream/types';

/** The upstream's example shows `timeout: -1`: only 1 means it timed out. */
export function taskTimedOut(task: Pick<CseTask, 'timeout'>): boolean {
  return task.timeout === 1;
}

/** `JSON.stringify` recurses, and would overflow on a deeper output. */
export const MAX_OUTPUT_DEPTH = 64;

/** Longer text is parsed in turns of the event loop, as a long upstream body is. */
const PARSED_IN_TURNS_FROM = 256 * 1024;

/** Parsed when it is shallow enough JSON, else the text itself; output has no ids to keep exact. A long one
 * is parsed in `caller`'s turns (nextTurn). */
export function taskOutput(raw: string | null | undefined, caller?: string, signal?: AbortSignalLike): unknown {
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== 'string') {
    if (!nestsDeeperThan(raw, MAX_OUTPUT_DEPTH)) return raw;
    const message = 'The upstream sent a task output nested too deeply to answer.';
    throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, message);
  }
  if (raw.length > PARSED_IN_TURNS_FROM) {
    // Text that is no JSON is answered as text; an operation cut short stops parsing.
    return parseJsonInTurns(raw, MAX_OUTPUT_DEPTH, undefined, undefined, caller, signal).catch((error: unknown) => {
      if (signal?.aborted === true) throw error;
      return raw;
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return raw;
  }
  return nestsDeeperThan(parsed, MAX_OUTPUT_DEPTH) ? raw : parsed;
}

/** Iterative, so a deep value cannot overflow the stack here either. */
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
