import { createUnknownValueReporter } from '../../src/mapping/unknownValues';

type Warning = [{ kind: string; value: string }, string];

function setup(maxDistinct?: number): { warnings: Warning[]; report: (kind: string, value: string) => void } {
  const warnings: Warning[] = [];
  const report = createUnknownValueReporter((fields, message) => warnings.push([fields, message]), maxDistinct);
  return { warnings, report };
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

  it('stops remembering past maxDistinct, says so once, then stays silent', () => {
    const { warnings, report } = setup(3);
    for (const value of ['a', 'b', 'c', 'd', 'e', 'a', 'f']) report('JobStatus', value);
    expect(warnings.map(([fields]) => fields.value)).toEqual(['a', 'b', 'c', 'd']);
    expect(warnings[3]?.[1]).toMatch(/more than 3 distinct.*no longer reporting/);
  });

  it('is silent from the start with maxDistinct 0, apart from the one notice', () => {
    const { warnings, report } = setup(0);
    report('JobType', 'a');
    report('JobType', 'b');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.[1]).toMatch(/no longer reporting/);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses maxDistinct %p', (max) => {
    expect(() => createUnknownValueReporter(() => undefined, max)).toThrow(RangeError);
  });
});
