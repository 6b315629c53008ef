import fc from 'fast-check';
import { fingerprintDigest, jobFingerprint as fingerprintOf } from '../../src/subscriptions/jobFingerprint';

import type { CseJob } from '../../src/upstream/types';

/** MAX_LIST_ITEMS at its default. */
const jobFingerprint = (job: CseJob) => fingerprintOf(job, 1000);

/**
 * Events are sent when the fingerprint changes: it must change with anything a subscriber can see
 * and stay put for what it cannot (enum spellings, list vs details shape of the same job).
 */

const base = (): CseJob =>
  ({
    id: 42,
    engineId: 'e1',
    type: 'Configure',
    description: 'd',
    status: 'Executing',
    scheduling: 1,
    createUser: 'u',
    startTime: 1_700_000_000_000,
    endTime: 0,
    context: '{}',
    tasks: [{ id: 1, jobId: 42, type: 'Configure', assigned: 1, taskName: 't', engineName: 'n', taskOrder: 0, status: 'Executing', startTime: 1_700_000_000_000, endTime: 0, createTime: 1_700_000_000_000, updateTime: 1_700_000_001_000, timeout: 0, log: '', output: '' }],
  }) as unknown as CseJob;

describe('jobFingerprint', () => {
  it('is the same for the same job, whatever the spelling of its enums', () => {
    const drifted = { ...base(), status: 'EXECUTING', type: 'configure' } as unknown as CseJob;
    expect(jobFingerprint(drifted)).toBe(jobFingerprint(base()));
  });

  it.each([
    ['status', { status: 'Finished' }],
    ['description', { description: 'other' }],
    ['context', { context: '{"a":1}' }],
    ['endTime', { endTime: 1_700_000_002_000 }],
    ['createUser', { createUser: 'v' }],
  ])('changes with %s', (_field, patch) => {
    expect(jobFingerprint({ ...base(), ...patch } as unknown as CseJob)).not.toBe(jobFingerprint(base()));
  });

  it("changes with any visible field of any task (a task's progress is an event)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom('status', 'updateTime', 'endTime', 'log', 'output', 'taskName'),
        fc.oneof(fc.string({ minLength: 1 }), fc.integer({ min: 1_700_000_005_000, max: 1_800_000_000_000 })),
        (field, value) => {
          const job = base();
          const task = { ...(job as any).tasks[0] };
          const before = jobFingerprint(job);
          if (field === 'status') task.status = 'Finished';
          else if (field === 'updateTime' || field === 'endTime') task[field] = typeof value === 'number' ? value : 1_700_000_009_000;
          else task[field] = `${String(value)}!`;
          const after = jobFingerprint({ ...job, tasks: [task] } as unknown as CseJob);
          expect(after).not.toBe(before);
        },
      ),
    );
  });
});

describe('jobFingerprint of a hostile upstream', () => {
  // 20,000 levels: JSON.stringify or String() of it overflows the stack.
  let deep: unknown = [];
  for (let i = 0; i < 20_000; i += 1) deep = [deep];

  it.each(['id', 'context', 'description', 'createUser', 'engineId', 'status', 'type'])('never walks a %s nested without end', (field) => {
    expect(() => jobFingerprint({ ...base(), [field]: deep } as unknown as CseJob)).not.toThrow();
  });

  it.each(['id', 'log', 'output', 'assigned', 'taskName'])("never walks a task's %s nested without end", (field) => {
    const job = base();
    const tasks = [{ ...(job.tasks as object[])[0], [field]: deep }];
    expect(() => jobFingerprint({ ...job, tasks } as unknown as CseJob)).not.toThrow();
  });
});

describe('jobFingerprint of values that are not text', () => {
  it.each([
    ['an output object', (progress: number) => ({ output: { progress } })],
    ['an output array', (progress: number) => ({ output: [progress] })],
    ['a log object', (progress: number) => ({ log: { line: progress } })],
  ])("changes with %s's content, as the answer does", (_, patch) => {
    const job = base();
    const withTask = (progress: number) => ({ ...job, tasks: [{ ...(job.tasks as object[])[0], ...patch(progress) }] }) as unknown as CseJob;
    expect(jobFingerprint(withTask(10))).not.toBe(jobFingerprint(withTask(90)));
  });

  it("changes with a context object's content", () => {
    expect(jobFingerprint({ ...base(), context: { step: 1 } } as unknown as CseJob)).not.toBe(jobFingerprint({ ...base(), context: { step: 2 } } as unknown as CseJob));
  });
});

describe('jobFingerprint of a job with more tasks than a field may list', () => {
  it('counts them instead of walking them, and still sees the count change', () => {
    const many = (count: number) => ({ ...base(), tasks: Array.from({ length: count }, (_, id) => ({ id, status: 'Executing' })) }) as unknown as CseJob;
    expect(fingerprintOf(many(87_000), 1000)).toContain('<too many tasks>');
    expect(fingerprintOf(many(87_000), 1000).length).toBeLessThan(1000);
    expect(fingerprintOf(many(87_001), 1000)).not.toBe(fingerprintOf(many(87_000), 1000));
  });

  it("sees a task's executor brief appear", () => {
    const job = base();
    const task = (job.tasks as unknown as Array<Record<string, unknown>>)[0]!;
    const without = { ...job, tasks: [{ ...task, taskExecutorBrief: undefined }] } as unknown as CseJob;
    const withBrief = { ...job, tasks: [{ ...task, taskExecutorBrief: {} }] } as unknown as CseJob;
    expect(jobFingerprint(without)).not.toBe(jobFingerprint(withBrief));
  });
});

describe('fingerprintDigest', () => {
  it('is what a watch keeps: equal for equal fingerprints, different otherwise, 44 characters whatever the job weighs', () => {
    const large = { ...base(), description: 'd'.repeat(100_000) } as unknown as CseJob;
    const digests = [base(), base(), large].map((job) => fingerprintDigest(jobFingerprint(job)));
    expect(digests[0]).toBe(digests[1]);
    expect(digests[2]).not.toBe(digests[0]);
    expect(digests.map((digest) => digest.length)).toEqual([44, 44, 44]);
  });
});
