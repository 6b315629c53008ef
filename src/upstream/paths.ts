import { GatewayError } from '../errors/GatewayError';
import { ErrorCode } from '../errors/codes';

/**
 * Upstream paths, built in one place from validated segments. Ids are checked against the
 * alphabet the upstream uses before they go into a path: an id that cannot exist is the caller's
 * mistake (BAD_USER_INPUT, no upstream call), and nothing a caller sends can change which path
 * the gateway calls (no `..`, `/`, `?` or `%` smuggled into a segment).
 */

/** Engine ids are UUIDs in practice; accept any short token of URL-safe characters. */
const ENGINE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Job ids are integers (Long); keep them as digit strings so no precision is ever lost. */
const JOB_ID = /^\d{1,20}$/;

export type Route = 'listEngines' | 'getEngine' | 'listJobs' | 'getJob';

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

const base = (projectId: string) => `/v2/${projectId}/enginemgr/engines`;

export const paths = {
  listEngines: (projectId: string) => base(projectId),
  getEngine: (projectId: string, engineId: string) => `${base(projectId)}/${engineId}`,
  listJobs: (projectId: string, engineId: string) => `${base(projectId)}/${engineId}/jobs`,
  getJob: (projectId: string, engineId: string, jobId: string) => `${base(projectId)}/${engineId}/jobs/${jobId}`,
} as const;
