import { PROJECT_ID_PATTERN as PROJECT_ID } from '../config/loadConfig';
import { GatewayError } from '../errors/GatewayError';
import { ErrorCode } from '../errors/codes';

// A caller's id outside the upstream's alphabet is BAD_USER_INPUT. Ids from upstream answers are
// checked too: they must not steer the next call, with the caller's token, to another path.

/** Engine ids are UUIDs in practice; accept any short token of URL-safe characters. */
const ENGINE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Digit strings, so no precision is ever lost. */
const JOB_ID = /^\d{1,20}$/;

export function assertEngineId(id: string, argumentName = 'engineId'): string {
  return checked(id, ENGINE_ID, 'engine id', argumentName);
}

export function assertJobId(id: string, argumentName = 'id'): string {
  return checked(id, JOB_ID, 'job id: job ids are digits', argumentName);
}

function checked(id: string, pattern: RegExp, what: string, argumentName: string): string {
  if (pattern.test(id)) return id;
  const message = `"${argumentName}" is not a valid ${what}.`;
  throw new GatewayError(ErrorCode.BAD_USER_INPUT, message, { details: { argumentName } });
}

/** `what` names the segment, never the value. */
function segment(value: string, pattern: RegExp, what: string): string {
  if (typeof value === 'string' && pattern.test(value)) return encodeURIComponent(value);
  throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, `The upstream sent an unusable ${what}.`);
}

const base = (projectId: string) => `/v2/${segment(projectId, PROJECT_ID, 'project id')}/enginemgr/engines`;
const engine = (projectId: string, engineId: string) =>
  `${base(projectId)}/${segment(engineId, ENGINE_ID, 'engine id')}`;

export const paths = {
  listEngines: (projectId: string) => base(projectId),
  getEngine: (projectId: string, engineId: string) => engine(projectId, engineId),
  listJobs: (projectId: string, engineId: string) => `${engine(projectId, engineId)}/jobs`,
  getJob: (projectId: string, engineId: string, jobId: string) =>
    `${engine(projectId, engineId)}/jobs/${segment(jobId, JOB_ID, 'job id')}`,
} as const;
