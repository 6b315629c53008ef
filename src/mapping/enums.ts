/**
 * Upstream enum strings → GraphQL enum values. Every documented spelling maps, and the same words
 * in another case or with `_`, `-` or spaces (`PRE_INIT`, `create_failed`), since nothing
 * documents the case as stable. Anything else is `UNKNOWN`, never an error: a job list must not
 * fail because one job carries a status the documentation has not caught up with.
 */
import type { EngineStatus, JobStatus, JobType } from '../generated/schema-types';
import { normaliseUpstreamValue } from '../upstream/jobStatus';
import type { UnknownValueReporter } from './unknownValues';

/** How a missing or empty upstream value is reported. */
export const MISSING_VALUE = '<missing>';

type Lookup<T extends string> = {
  readonly kind: string;
  readonly exact: ReadonlyMap<string, T>;
  readonly normalised: ReadonlyMap<string, T>;
};

const normalise = normaliseUpstreamValue;

function buildLookup<T extends string>(kind: string, table: ReadonlyArray<readonly [string, T]>): Lookup<T> {
  const exact = new Map<string, T>();
  const normalised = new Map<string, T>();
  for (const [upstream, mapped] of table) {
    exact.set(upstream, mapped);
    // Our own names (`PRE_INIT`) normalise to the same keys as the upstream's (`PreInit`).
    normalised.set(normalise(upstream), mapped);
    normalised.set(normalise(mapped), mapped);
  }
  return { kind, exact, normalised };
}

const jobTypes = buildLookup<JobType>('JobType', [
  ['Create', 'CREATE'],
  ['Delete', 'DELETE'],
  ['Updated', 'UPDATED'],
  // Some pages spell it `Update`; it is the same job type.
  ['Update', 'UPDATED'],
  ['Upgrade', 'UPGRADE'],
  ['Configure', 'CONFIGURE'],
  ['Modify', 'MODIFY'],
]);

const jobStatuses = buildLookup<JobStatus>('JobStatus', [
  ['PreInit', 'PRE_INIT'],
  ['Init', 'INIT'],
  ['Executing', 'EXECUTING'],
  ['Error', 'ERROR'],
  ['Timeout', 'TIMEOUT'],
  ['Finished', 'FINISHED'],
]);

const engineStatuses = buildLookup<EngineStatus>('EngineStatus', [
  ['Creating', 'CREATING'],
  ['Available', 'AVAILABLE'],
  ['Unavailable', 'UNAVAILABLE'],
  ['Deleting', 'DELETING'],
  ['Deleted', 'DELETED'],
  ['Upgrading', 'UPGRADING'],
  ['Modifying', 'MODIFYING'],
  ['CreateFailed', 'CREATE_FAILED'],
  ['DeleteFailed', 'DELETE_FAILED'],
  ['UpgradeFailed', 'UPGRADE_FAILED'],
  ['ModifyFailed', 'MODIFY_FAILED'],
  ['Freezed', 'FREEZED'],
]);

function mapWith<T extends string>(
  lookup: Lookup<T>,
  raw: string | null | undefined,
  report: UnknownValueReporter | undefined,
): T | 'UNKNOWN' {
  // Not validated deeply: `raw` may be any JSON value.
  const value: unknown = raw;
  if (value === null || value === undefined || value === '') {
    report?.(lookup.kind, MISSING_VALUE);
    return 'UNKNOWN';
  }
  if (typeof value === 'string') {
    const mapped = lookup.exact.get(value) ?? lookup.normalised.get(normalise(value));
    if (mapped !== undefined) return mapped;
  }
  report?.(lookup.kind, typeof value === 'string' ? value : safeString(value));
  return 'UNKNOWN';
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'object' ? JSON.stringify(value) ?? String(value) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** `report` is told of every value that maps to `UNKNOWN` (`<missing>` for null or empty). */
export function mapJobType(raw: string | null | undefined, report?: UnknownValueReporter): JobType {
  return mapWith(jobTypes, raw, report);
}

export function mapJobStatus(raw: string | null | undefined, report?: UnknownValueReporter): JobStatus {
  return mapWith(jobStatuses, raw, report);
}

export function mapEngineStatus(raw: string | null | undefined, report?: UnknownValueReporter): EngineStatus {
  return mapWith(engineStatuses, raw, report);
}
