import { GatewayError } from '../../src/errors/GatewayError';
import fc from 'fast-check';
import { emptyToNull, idString, isScheduling, jobTasks, taskCount, taskOrder } from '../../src/mapping/job';
import type { CseJob, CseTask, CseTaskPhase } from '../../src/upstream/types';

describe('idString', () => {
  it.each<[unknown, string]>([
    [42, '42'],
    [0, '0'],
    [2 ** 31, '2147483648'],
    [3000000943, '3000000943'],
    [1000000000000000, '1000000000000000'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [2 ** 53, '9007199254740992'],
    [1.5, '1.5'],
    [-3000000943, '-3000000943'],
    ['12345678901234567890', '12345678901234567890'],
    ['e1b5d2c4-engine', 'e1b5d2c4-engine'],
  ])('%p → %p', (raw, expected) => {
    expect(idString(raw as string | number)).toBe(expected);
  });

  it('writes any number as String() does', () => {
    const number = fc.oneof(fc.maxSafeNat(), fc.maxSafeInteger(), fc.double({ noNaN: true, noDefaultInfinity: true }));
    fc.assert(fc.property(number, (raw) => idString(raw) === String(raw)), { numRuns: 5000 });
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['NaN', Number.NaN],
    ['an object', { id: 1 }],
    ['a boolean', true],
  ])('throws UPSTREAM_BAD_RESPONSE for %s', (_label, raw) => {
    expect(() => idString(raw as string)).toThrow(GatewayError);
    expect(() => idString(raw as string)).toThrow(expect.objectContaining({ code: 'UPSTREAM_BAD_RESPONSE' }));
  });
});

const task = (id: number, taskOrder?: number | null): CseTask =>
  taskOrder === undefined ? { id } : { id, taskOrder };
const phase = (taskName: string, tasks: CseTask[]): CseTaskPhase => ({ taskName, tasks });
const ids = (tasks: CseTask[]): unknown[] => tasks.map((t) => t.id);

describe('jobTasks', () => {
  it.each<[string, CseJob['tasks'], unknown[]]>([
    ['no tasks field', undefined, []],
    ['null tasks', null, []],
    ['an empty list', [], []],
    ['flat, already sorted', [task(1, 1), task(2, 2), task(3, 3)], [1, 2, 3]],
    ['flat, unsorted', [task(3, 3), task(1, 1), task(2, 2)], [1, 2, 3]],
    ['equal orders keep arrival order', [task(1, 2), task(2, 1), task(3, 2), task(4, 1)], [2, 4, 1, 3]],
    ['missing orders count as 0, in arrival order', [task(1), task(2, 5), task(3, null), task(4, 0)], [1, 3, 4, 2]],
    ['negative orders first', [task(1, 1), task(2, -1)], [2, 1]],
    [
      'phases flattened in phase order, then sorted',
      [phase('prepare', [task(1, 2), task(2, 1)]), phase('run', [task(3, 4), task(4, 3)])],
      [2, 1, 4, 3],
    ],
    [
      'phases without orders keep phase order',
      [phase('b', [task(5), task(6)]), phase('a', [task(1), task(2)])],
      [5, 6, 1, 2],
    ],
    ['an empty phase', [phase('empty', []), task(1, 1)], [1]],
    ['phases and flat tasks mixed', [task(9, 3), phase('p', [task(1, 1), task(2, 2)])], [1, 2, 9]],
  ])('%s', (_label, tasks, expected) => {
    expect(ids(jobTasks({ id: 1, tasks }))).toEqual(expected);
  });

  it('drops entries that are neither tasks nor phases', () => {
    const tasks = [null, 3, 'x', [task(7, 1)], task(1, 1), phase('p', [null as unknown as CseTask, task(2, 2)])];
    expect(ids(jobTasks({ id: 1, tasks: tasks as CseJob['tasks'] }))).toEqual([1, 2]);
  });

  it('tells a phase from a task by an array `tasks`, not by its name', () => {
    const named = { id: 5, taskName: 'looks like a phase', taskOrder: 1 } as CseTask;
    expect(jobTasks({ id: 1, tasks: [named] })).toEqual([named]);
  });

  it('sorts by what Task.order answers: an order an Int cannot hold counts as 0, a digit string as its number', () => {
    const odd = (id: number, taskOrder: unknown) => ({ id, taskOrder }) as unknown as CseTask;
    const tasks = [task(1, Number.NaN), task(2, Number.POSITIVE_INFINITY), task(3, 1), odd(4, '-2'), odd(5, 2 ** 31), odd(6, 'x'), odd(7, 1.5)];
    expect(jobTasks({ id: 1, tasks }).map((t) => [t.id, taskOrder(t)])).toEqual([[4, -2], [1, 0], [2, 0], [5, 0], [6, 0], [7, 0], [3, 1]]);
  });

  it('never mutates the job or its arrays', () => {
    const inner = [task(2, 2), task(1, 1)];
    const outer = [phase('p', inner), task(0, 0)];
    const job: CseJob = { id: 1, tasks: outer };
    const snapshot = structuredClone(job);
    jobTasks(job);
    expect(job).toEqual(snapshot);
    expect(job.tasks).toBe(outer);
    expect(ids(inner)).toEqual([2, 1]);
  });

  it('returns the task objects themselves, not copies', () => {
    const t = task(1, 1);
    expect(jobTasks({ id: 1, tasks: [t] })[0]).toBe(t);
  });

  it('returns a new array on every call and never modifies the job', () => {
    const tasks = [task(2, 2), task(1, 1)];
    const job = Object.freeze({ id: 1, tasks: Object.freeze([...tasks]) }) as CseJob;
    const first = jobTasks(job);
    const second = jobTasks(job);
    expect(second).not.toBe(first);
    expect(second).toEqual(first);
    expect(first.map((t) => t.taskOrder)).toEqual([1, 2]);
    expect(job.tasks).toEqual(tasks);
  });
});

describe('taskCount', () => {
  it('is the length of jobTasks, whatever mix of tasks, phases and junk the job holds', () => {
    const task = fc.record({ id: fc.nat(), taskOrder: fc.option(fc.integer(), { nil: undefined }) });
    const entry = fc.oneof(task, fc.record({ tasks: fc.array(fc.oneof(task, fc.constant(null), fc.constant(3)), { maxLength: 5 }) }), fc.constant(null), fc.string(), fc.array(task, { maxLength: 2 }));
    fc.assert(
      fc.property(fc.option(fc.array(entry, { maxLength: 10 }), { nil: undefined }), (tasks) => {
        const job = { id: 1, tasks } as unknown as CseJob;
        expect(taskCount(job)).toBe(jobTasks(job).length);
      }),
    );
  });
});

describe('isScheduling', () => {
  it.each<[unknown, boolean]>([
    [1, true],
    [0, false],
    [null, false],
    [undefined, false],
    ['1', false],
    [true, false],
    [2, false],
  ])('scheduling %p → %p', (scheduling, expected) => {
    expect(isScheduling({ scheduling: scheduling as number })).toBe(expected);
  });
});

describe('emptyToNull', () => {
  it.each<[string | null | undefined, string | null]>([
    ['', null],
    [null, null],
    [undefined, null],
    ['text', 'text'],
    [' ', ' '],
  ])('%p → %p', (s, expected) => {
    expect(emptyToNull(s)).toBe(expected);
  });
});
