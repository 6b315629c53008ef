import {
  ANONYMOUS_OPERATION,
  clientOperationName,
  createOperationLabeler,
  OTHER_OPERATION,
  UNRESOLVED_OPERATION,
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
    expect(createOperationLabeler(10)(name, resolved)).toBe(expected);
  });

  it('keeps the first names up to the bound and collapses every later one into one label', () => {
    const label = createOperationLabeler(2);
    expect(['A', 'B', 'C', 'A', 'D', 'B'].map((name) => label(name, true))).toEqual(['A', 'B', OTHER_OPERATION, 'A', OTHER_OPERATION, 'B']);
  });

  it('gives no slot to names of requests that never resolved', () => {
    const label = createOperationLabeler(1);
    expect(label('Garbage', false)).toBe(UNRESOLVED_OPERATION);
    expect(label('Real', true)).toBe('Real');
  });

  it('never produces more than the bound plus the three fixed labels, however many names arrive', () => {
    const label = createOperationLabeler(5);
    const labels = new Set<string>();
    for (let i = 0; i < 1000; i += 1) {
      labels.add(label(`Op${i}`, true));
      labels.add(label(i % 2 === 0 ? null : `bad name ${i}`, true));
      labels.add(label(`Op${i}`, false));
    }
    expect(labels.size).toBe(5 + 3);
  });

  it.each([
    ['Dashboard__cse__0', 'Dashboard'],
    ['Dashboard__cse__12', 'Dashboard'],
    ['My__Op__cse_jobs__1', 'My__Op'],
    ['Dashboard__cse', 'Dashboard__cse'],
    ['Dashboard__0', 'Dashboard__0'],
  ])("labels a router's fetch %s by its client operation's name (%s)", (name, expected) => {
    expect(clientOperationName(name)).toBe(expected);
    expect(createOperationLabeler(10)(name, true)).toBe(expected);
  });

  it("a router's fetches of one client operation share one label and one slot", () => {
    const label = createOperationLabeler(1);
    expect(['Dashboard__cse__0', 'Dashboard__cse__1', 'Dashboard__other__0'].map((name) => label(name, true))).toEqual(['Dashboard', 'Dashboard', 'Dashboard']);
    expect(label('Another', true)).toBe('(other)');
  });
});
