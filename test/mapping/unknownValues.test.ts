import { createUnknownValueReporter } from '../../src/mapping/unknownValues';

type Warning = [{ kind: string; value: string; requestId?: string }, string];

function setup(maxDistinct?: number) {
  const warnings: Warning[] = [];
  let now = 1;
  const clock = { now: () => now };
  const reporters = createUnknownValueReporter((fields, message) => warnings.push([fields, message]), maxDistinct, clock);
  /** Each call as an operation of its own. */
  const report = (kind: string, value: string) => reporters()(kind, value);
  return { warnings, report, reporters, advance: (ms: number) => (now += ms) };
}

describe('createUnknownValueReporter', () => {
  it('warns once per distinct (kind, value)', () => {
    const { warnings, report } = setup();
    report('JobStatus', 'Paused');
    report('JobStatus', 'Paused');
    report('JobType', 'Paused');
    report('JobStatus', 'Resumed');
    report('JobStatus', 'Paused');
    expect(warnings.map(([fields]) => fields)).toEqual([
      { kind: 'JobStatus', value: 'Paused' },
      { kind: 'JobType', value: 'Paused' },
      { kind: 'JobStatus', value: 'Resumed' },
    ]);
    expect(warnings[0]?.[1]).toMatch(/JobStatus.*UNKNOWN/);
  });

  it('writes at most one line per operation, with its request id; the next operation logs the next new value', () => {
    const { warnings, reporters } = setup();
    const first = reporters('req-1');
    for (let i = 0; i < 1000; i += 1) first('JobStatus', `value-${i}`);
    expect(warnings.map(([fields]) => fields)).toEqual([{ kind: 'JobStatus', value: 'value-0', requestId: 'req-1' }]);
    const second = reporters('req-2');
    for (let i = 0; i < 1000; i += 1) second('JobStatus', `value-${i}`);
    expect(warnings.map(([fields]) => fields.value)).toEqual(['value-0', 'value-1']);
  });

  it('logs a value again once it has left the last maxDistinct, or an hour has passed: never silent for good', () => {
    const { warnings, report, advance } = setup(3);
    for (const value of ['a', 'b', 'c', 'a', 'd', 'a']) report('JobStatus', value);
    expect(warnings.map(([fields]) => fields.value)).toEqual(['a', 'b', 'c', 'd', 'a']);
    report('JobStatus', 'd');
    advance(60 * 60 * 1000 + 1);
    report('JobStatus', 'd');
    expect(warnings.map(([fields]) => fields.value)).toEqual(['a', 'b', 'c', 'd', 'a', 'd']);
  });

  it.each<[string, number, string]>([
    ['short', 5, 'short'],
    ['exactly 100', 100, 'x'.repeat(100)],
    ['long', 5000, 'x'.repeat(100)],
  ])('truncates a %s value to at most 100 characters', (_label, length, logged) => {
    const { warnings, report } = setup();
    report('JobType', length === 5 ? 'short' : 'x'.repeat(length));
    expect(warnings[0]?.[0].value).toBe(logged);
  });

  it('does not split a surrogate pair when truncating', () => {
    const { warnings, report } = setup();
    report('JobType', `${'x'.repeat(99)}😀tail`);
    expect(warnings[0]?.[0].value).toBe('x'.repeat(99));
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses maxDistinct %p', (max) => {
    expect(() => createUnknownValueReporter(() => undefined, max)).toThrow(RangeError);
  });
});
