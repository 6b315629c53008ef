import { CachePolicy } from '../../src/cache/CachePolicy';

const TTLS = { listMs: 2000, engineMs: 10_000, jobMs: 2500, terminalJobMs: 600_000 };

describe('CachePolicy.header', () => {
  it.each([
    ['nothing recorded (introspection only)', [], false, 'no-store'],
    ['one hint', [10], false, 'max-age=10, private'],
    ['the shortest of several, in any order', [600, 2, 10], false, 'max-age=2, private'],
    ['a hint of 0 (a disabled cache)', [10, 0], false, 'no-store'],
    ['errors, whatever was recorded', [10], true, 'no-store'],
  ] as const)('%s → %s', (_name, hints, hasErrors, header) => {
    const policy = new CachePolicy(TTLS);
    for (const maxAge of hints) policy.record(maxAge);
    expect(policy.header(hasErrors)).toBe(header);
  });
});
