// Nothing documents the upstream's case as stable, so values match in any case and without `_`,
// `-` or spaces; anything else is `UNKNOWN`, never an error: one job must not fail a job list.
import type { EngineStatus, JobStatus, JobType } from '../generated/schema-types';
import { normaliseUpstreamValue as normalise } from '../upstream/jobStatus';
import type { UnknownValueReporter } from './unknownValues';

export const MISSING_VALUE = '<missing>';

function lookup<T extends string>(kind: string, values: readonly T[], aliases: Record<string, T> = {}) {
  const byKey = new Map(values.map((value) => [normalise(value), value]));
  for (const [alias, value] of Object.entries(aliases)) byKey.set(normalise(alias), value);
  return (raw: string | null | undefined, report?: UnknownValueReporter): T | 'UNKNOWN' => {
    const value: unknown = raw; // any JSON value
    const mapped = typeof value === 'string' ? byKey.get(normalise(value)) : undefined;
    if (mapped !== undefined) return mapped;
    const missing = value === null || value === undefined || value === '';
    report?.(kind, missing ? MISSING_VALUE : shown(value));
    return 'UNKNOWN';
  };
}

/** An upstream value that may be anything, as text: never a walk of what the upstream nested. */
function shown(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  return Array.isArray(value) ? '<array>' : '<object>';
}

export const mapJobType = lookup<JobType>(
  'JobType',
  ['CREATE', 'DELETE', 'UPDATED', 'UPGRADE', 'CONFIGURE', 'MODIFY'],
  // Some pages spell it `Update`; it is the same job type as `Updated`.
  { Update: 'UPDATED' },
);

export const mapJobStatus = lookup<JobStatus>(
  'JobStatus',
  ['PRE_INIT', 'INIT', 'EXECUTING', 'ERROR', 'TIMEOUT', 'FINISHED'],
);

export const mapEngineStatus = lookup<EngineStatus>('EngineStatus', [
  'CREATING', 'AVAILABLE', 'UNAVAILABLE', 'DELETING', 'DELETED', 'UPGRADING', 'MODIFYING', 'FREEZED',
  'CREATE_FAILED', 'DELETE_FAILED', 'UPGRADE_FAILED', 'MODIFY_FAILED',
]);
