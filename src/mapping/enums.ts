/**
 * Upstream enum strings → GraphQL enum values. A value maps when it is one of ours in another case
 * or with `_`, `-` or spaces removed (`PreInit`, `create_failed` → PRE_INIT, CREATE_FAILED), since
 * nothing documents the case as stable. Anything else is `UNKNOWN`, never an error: a job list must
 * not fail because one job carries a status the documentation has not caught up with.
 */
import type { EngineStatus, JobStatus, JobType } from '../generated/schema-types';
import { normaliseUpstreamValue as normalise } from '../upstream/jobStatus';
import type { UnknownValueReporter } from './unknownValues';

/** How a missing or empty upstream value is reported. */
export const MISSING_VALUE = '<missing>';

/** Our values, and the upstream spellings that are not one of them normalised. */
function lookup<T extends string>(kind: string, values: readonly T[], aliases: Record<string, T> = {}) {
  const byKey = new Map(values.map((value) => [normalise(value), value]));
  for (const [alias, value] of Object.entries(aliases)) byKey.set(normalise(alias), value);
  return { kind, byKey };
}

const jobTypes = lookup<JobType>(
  'JobType',
  ['CREATE', 'DELETE', 'UPDATED', 'UPGRADE', 'CONFIGURE', 'MODIFY'],
  // Some pages spell it `Update`; it is the same job type as `Updated`.
  { Update: 'UPDATED' },
);

const jobStatuses = lookup<JobStatus>(
  'JobStatus',
  ['PRE_INIT', 'INIT', 'EXECUTING', 'ERROR', 'TIMEOUT', 'FINISHED'],
);

const engineStatuses = lookup<EngineStatus>('EngineStatus', [
  'CREATING',
  'AVAILABLE',
  'UNAVAILABLE',
  'DELETING',
  'DELETED',
  'UPGRADING',
  'MODIFYING',
  'CREATE_FAILED',
  'DELETE_FAILED',
  'UPGRADE_FAILED',
  'MODIFY_FAILED',
  'FREEZED',
]);

/** `report` is told of every value that maps to `UNKNOWN` (`<missing>` for null or empty). */
function mapWith<T extends string>(
  table: { readonly kind: string; readonly byKey: ReadonlyMap<string, T> },
  raw: string | null | undefined,
  report: UnknownValueReporter | undefined,
): T | 'UNKNOWN' {
  // Not validated deeply: `raw` may be any JSON value.
  const value: unknown = raw;
  if (value === null || value === undefined || value === '') {
    report?.(table.kind, MISSING_VALUE);
    return 'UNKNOWN';
  }
  const mapped = typeof value === 'string' ? table.byKey.get(normalise(value)) : undefined;
  if (mapped !== undefined) return mapped;
  report?.(table.kind, typeof value === 'string' ? value : safeString(value));
  return 'UNKNOWN';
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'object' ? (JSON.stringify(value) ?? String(value)) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

export function mapJobType(raw: string | null | undefined, report?: UnknownValueReporter): JobType {
  return mapWith(jobTypes, raw, report);
}

export function mapJobStatus(raw: string | null | undefined, report?: UnknownValueReporter): JobStatus {
  return mapWith(jobStatuses, raw, report);
}

export function mapEngineStatus(raw: string | null | undefined, report?: UnknownValueReporter): EngineStatus {
  return mapWith(engineStatuses, raw, report);
}
