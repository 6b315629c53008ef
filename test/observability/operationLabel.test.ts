import {
  ANONYMOUS_OPERATION,
  clientOperationName,
  createOperationLabeler,
  OTHER_OPERATION,
  UNRESOLVED_OPERATION,
  UNVERIFIED_OPERATION,
} from '../../src/observability/operationLabel';

describe('createOperationLabeler', () => {
  it.each([
    ['a named operation', 'Dashboard', true, 'Dashboard'],
    ['an anonymous operation', null, true, ANONYMOUS_OPERATION],
    ['an empty name', '', true, ANONYMOUS_OPERATION],
    ['an unresolved request, whatever name it claims', 'Dashboard', false, UNRESOLVED_OPERATION],
    ['a name that is too long', `A${'b'.repeat(64)}`, true, OTHER_OPERATION],
    ['the longest name kept', `A${'b'.repeat(63)}`, true, `A${'b'.repeat(63)}`],
    ['a name that is not a GraphQL name', 'a-b', true, OTHER_OPERATION],
    ['a name with a quote', 'a"b', true, OTHER_OPERATION],
  ])('labels %s', (_what, name, resolved, expected) => {
    expect(createOperationLabeler(10)(name, resolved, true)).toBe(expected);
  });

  it('keeps the first names up to the bound and collapses every later one into one label', () => {
    const label = createOperationLabeler(2);
    expect(['A', 'B', 'C', 'A', 'D', 'B'].map((name) => label(name, true, true))).toEqual(['A', 'B', OTHER_OPERATION, 'A', OTHER_OPERATION, 'B']);
  });

  it('gives no slot to names no upstream answer or persisted query list vouched for: they are all "(unverified)"', () => {
    const label = createOperationLabeler(2);
    for (let i = 0; i < 100; i += 1) expect(label(`Attacker${i}`, true, false)).toBe(UNVERIFIED_OPERATION);
    expect(label('Dashboard', true, true)).toBe('Dashboard');
    expect(label('JobDetails', true, true)).toBe('JobDetails');
    // The same name from a caller nobody vouched for is counted as unverified: a name's series only counts vouched operations.
    expect(label('Dashboard', true, false)).toBe(UNVERIFIED_OPERATION);
    expect(label(null, true, false)).toBe(ANONYMOUS_OPERATION);
  });

  it('gives no slot to names of requests that never resolved', () => {
    const label = createOperationLabeler(1);
    expect(label('Garbage', false, true)).toBe(UNRESOLVED_OPERATION);
    expect(label('Real', true, true)).toBe('Real');
  });

  it('never produces more than the bound plus the three fixed labels, however many names arrive', () => {
    const label = createOperationLabeler(5);
    const labels = new Set<string>();
    for (let i = 0; i < 1000; i += 1) {
      labels.add(label(`Op${i}`, true, true));
      labels.add(label(i % 2 === 0 ? null : `bad name ${i}`, true, true));
      labels.add(label(`Op${i}`, false, true));
      labels.add(label(`Unverified${i}`, true, false));
    }
    expect(labels.size).toBe(5 + 4);
  });

  it.each([
    ['Dashboard__cse__0', 'Dashboard'],
    ['Dashboard__cse__12', 'Dashboard'],
    ['My__Op__cse_jobs__1', 'My__Op'],
    ['Dashboard__cse', 'Dashboard__cse'],
    ['Dashboard__0', 'Dashboard__0'],
  ])("labels a router's fetch %s by its client operation's name (%s)", (name, expected) => {
    expect(clientOperationName(name)).toBe(expected);
    expect(createOperationLabeler(10)(name, true, true)).toBe(expected);
  });

  it("a router's fetches of one client operation share one label and one slot", () => {
    const label = createOperationLabeler(1);
    expect(['Dashboard__cse__0', 'Dashboard__cse__1', 'Dashboard__other__0'].map((name) => label(name, true, true))).toEqual(['Dashboard', 'Dashboard', 'Dashboard']);
    expect(label('Another', true, true)).toBe('(other)');
  });
});
