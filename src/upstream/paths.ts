import { GatewayError } from '../errors/GatewayError';
import { ErrorCode } from '../errors/codes';

/**
 * Upstream paths, built in one place from validated segments. Ids are checked against the
 * alphabet the upstream uses before they go into a path: an id that cannot exist is the caller's
 * mistake (BAD_USER_INPUT, no upstream call), and nothing a caller sends can change which path
 * the gateway calls (no `..`, `/`, `?` or `%` smuggled into a segment).
 *
 * The path builders check every segment again, whatever its source, and percent-encode it: ids
 * also come from the upstream's own answers (an engine list's ids, a job's `engineId`, an engine's
 * `latestJobId`), and a hostile or broken answer must not steer the next call — with the caller's
 * token — to another path or add query parameters to it. A segment that fails there is thrown as
 * an {@link UnsafePathSegmentError} before any call is made.
 */

/** Engine ids are UUIDs in practice; accept any short token of URL-safe characters. */
const ENGINE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Job ids are integers (Long); keep them as digit strings so no precision is ever lost. */
const JOB_ID = /^\d{1,20}$/;

export type { Route } from '../observability/events';

export function assertEngineId(id: string, argumentName = 'engineId'): string {
  if (!ENGINE_ID.test(id)) {
    throw new GatewayError(ErrorCode.BAD_USER_INPUT, `"${argumentName}" is not a valid engine id.`, {
      details: { argumentName },
    });
  }
  return id;
}

export function assertJobId(id: string, argumentName = 'id'): string {
  if (!JOB_ID.test(id)) {
    throw new GatewayError(ErrorCode.BAD_USER_INPUT, `"${argumentName}" is not a valid job id: job ids are digits.`, {
      details: { argumentName },
    });
  }
  return id;
}

/** Project ids as the configuration and the identity headers accept them (1 to 64 characters). */
const PROJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A value that may not go into an upstream path; `what` names the segment, never the value. */
export class UnsafePathSegmentError extends Error {
  constructor(readonly what: 'project id' | 'engine id' | 'job id') {
    super(`A ${what} is not safe to put into an upstream path.`);
    this.name = 'UnsafePathSegmentError';
  }
}

function segment(value: string, pattern: RegExp, what: UnsafePathSegmentError['what']): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw new UnsafePathSegmentError(what);
  // A no-op for the alphabets above; kept so the guarantee does not rest on the patterns alone.
  return encodeURIComponent(value);
}

const base = (projectId: string) => `/v2/${segment(projectId, PROJECT_ID, 'project id')}/enginemgr/engines`;
const engine = (projectId: string, engineId: string) => `${base(projectId)}/${segment(engineId, ENGINE_ID, 'engine id')}`;

/** @throws UnsafePathSegmentError for a segment outside its alphabet (see the module comment). */
export const paths = {
  listEngines: (projectId: string) => base(projectId),
  getEngine: (projectId: string, engineId: string) => engine(projectId, engineId),
  listJobs: (projectId: string, engineId: string) => `${engine(projectId, engineId)}/jobs`,
  getJob: (projectId: string, engineId: string, jobId: string) => `${engine(projectId, engineId)}/jobs/${segment(jobId, JOB_ID, 'job id')}`,
} as const;
