import fc from 'fast-check';
import { jsonNestsDeeperThan } from '../../src/upstream/jsonDepth';

describe('jsonNestsDeeperThan', () => {
  it.each([
    ['{}', 0, true],
    ['{}', 1, false],
    ['[[[]]]', 3, false],
    ['[[[]]]', 2, true],
    ['{"a":"[[[[[[[[[["}', 1, false],
    ['{"a":"\\\\"}', 1, false],
    ['{"a":"\\"[[[["}', 1, false],
    ['[{"a":[{"b":[]}]}]', 5, false],
    ['[{"a":[{"b":[]}]}]', 4, true],
  ])('%s deeper than %d: %s', (text, limit, expected) => {
    expect(jsonNestsDeeperThan(text, limit)).toBe(expected);
  });

  it('agrees with the depth of any JSON value (property)', () => {
    const depth = (value: unknown): number =>
      typeof value === 'object' && value !== null ? 1 + Math.max(0, ...Object.values(value as object).map(depth)) : 0;
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.nat(10), (value, limit) => {
        expect(jsonNestsDeeperThan(JSON.stringify(value), limit)).toBe(depth(value) > limit);
      }),
    );
  });
});
