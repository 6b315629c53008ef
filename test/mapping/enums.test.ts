import fc from 'fast-check';
import {
  mapEngineStatus,
  mapJobStatus,
  mapJobType,
  MISSING_VALUE,
} from '../../src/mapping/enums';
import type { EngineStatus, JobStatus, JobType } from '../../src/generated/schema-types';

function recorder(): { calls: Array<[string, string]>; report: (kind: string, value: string) => void } {
  const calls: Array<[string, string]> = [];
  return { calls, report: (kind, value) => calls.push([kind, value]) };
}

describe('mapJobType', () => {
  it.each<[string, JobType]>([
    ['Create', 'CREATE'],
    ['Delete', 'DELETE'],
    ['Updated', 'UPDATED'],
    ['Update', 'UPDATED'],
    ['Upgrade', 'UPGRADE'],
    ['Configure', 'CONFIGURE'],
    ['Modify', 'MODIFY'],
    // Case and separator variants.
    ['CREATE', 'CREATE'],
    ['update', 'UPDATED'],
    ['UPDATED', 'UPDATED'],
    [' upgrade ', 'UPGRADE'],
  ])('maps %j to %s without reporting', (raw, expected) => {
    const { calls, report } = recorder();
    expect(mapJobType(raw, report)).toBe(expected);
    expect(calls).toEqual([]);
  });

  it.each<[string | null | undefined, string]>([
    ['Restart', 'Restart'],
    ['Upgraded', 'Upgraded'],
    ['Creates', 'Creates'],
    ['UNKNOWN', 'UNKNOWN'],
    ['_', '_'],
    ['', MISSING_VALUE],
    [null, MISSING_VALUE],
    [undefined, MISSING_VALUE],
  ])('maps %j to UNKNOWN and reports it as %j', (raw, reported) => {
    const { calls, report } = recorder();
    expect(mapJobType(raw, report)).toBe('UNKNOWN');
    expect(calls).toEqual([['JobType', reported]]);
  });

  it('works without a reporter', () => {
    expect(mapJobType('Nope')).toBe('UNKNOWN');
    expect(mapJobType(undefined)).toBe('UNKNOWN');
  });

  it('reports a non-string value (an upstream that ignores its own types) by its kind, never walking it', () => {
    const { calls, report } = recorder();
    // 20,000 levels: JSON.stringify of it overflows the stack.
    let deep: unknown = [];
    for (let i = 0; i < 20_000; i += 1) deep = [deep];
    for (const value of [7, true, { a: 1 }, deep]) expect(mapJobType(value as string, report)).toBe('UNKNOWN');
    expect(calls).toEqual([
      ['JobType', '7'],
      ['JobType', 'true'],
      ['JobType', '<object>'],
      ['JobType', '<array>'],
    ]);
  });
});

describe('mapJobStatus', () => {
  it.each<[string, JobStatus]>([
    ['PreInit', 'PRE_INIT'],
    ['Init', 'INIT'],
    ['Executing', 'EXECUTING'],
    ['Error', 'ERROR'],
    ['Timeout', 'TIMEOUT'],
    ['Finished', 'FINISHED'],
    ['PRE_INIT', 'PRE_INIT'],
    ['preinit', 'PRE_INIT'],
    ['pre-init', 'PRE_INIT'],
    ['Pre Init', 'PRE_INIT'],
    ['FINISHED', 'FINISHED'],
    ['time_out', 'TIMEOUT'],
  ])('maps %j to %s', (raw, expected) => {
    const { calls, report } = recorder();
    expect(mapJobStatus(raw, report)).toBe(expected);
    expect(calls).toEqual([]);
  });

  it.each<[string | null | undefined, string]>([
    ['Success', 'Success'],
    ['Running', 'Running'],
    ['Initialising', 'Initialising'],
    ['', MISSING_VALUE],
    [null, MISSING_VALUE],
  ])('maps %j to UNKNOWN and reports %j', (raw, reported) => {
    const { calls, report } = recorder();
    expect(mapJobStatus(raw, report)).toBe('UNKNOWN');
    expect(calls).toEqual([['JobStatus', reported]]);
  });
});

describe('mapEngineStatus', () => {
  it.each<[string, EngineStatus]>([
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
    ['create_failed', 'CREATE_FAILED'],
    ['CREATE-FAILED', 'CREATE_FAILED'],
    ['createfailed', 'CREATE_FAILED'],
    ['AVAILABLE', 'AVAILABLE'],
    ['freezed', 'FREEZED'],
  ])('maps %j to %s', (raw, expected) => {
    const { calls, report } = recorder();
    expect(mapEngineStatus(raw, report)).toBe(expected);
    expect(calls).toEqual([]);
  });

  it.each<[string | null | undefined, string]>([
    ['Frozen', 'Frozen'],
    ['Running', 'Running'],
    ['Create Failed!', 'Create Failed!'],
    [undefined, MISSING_VALUE],
  ])('maps %j to UNKNOWN and reports %j', (raw, reported) => {
    const { calls, report } = recorder();
    expect(mapEngineStatus(raw, report)).toBe('UNKNOWN');
    expect(calls).toEqual([['EngineStatus', reported]]);
  });
});

describe('every mapper', () => {
  it.each([
    ['JobType', mapJobType],
    ['JobStatus', mapJobStatus],
    ['EngineStatus', mapEngineStatus],
  ] as const)('%s: never throws, and reports exactly when it answers UNKNOWN', (kind, map) => {
    fc.assert(
      fc.property(fc.option(fc.string(), { nil: undefined }), (raw) => {
        const { calls, report } = recorder();
        const mapped = map(raw, report);
        expect(calls).toEqual(mapped === 'UNKNOWN' ? [[kind, raw ? raw : MISSING_VALUE]] : []);
      }),
    );
  });
});
