import { isObjectType } from 'graphql';
import { buildGatewaySchema } from '../../src/graphql/buildSchema';
import { fieldMaxAge, isHinted, recordCacheHints } from '../../src/graphql/plugins/cacheHints';

const TTLS = { listMs: 2000, engineMs: 10_000, jobMs: 2500, terminalJobMs: 600_000 };

describe('fieldMaxAge', () => {
  it.each([
    ['Query', 'engines', true, null, 2],
    ['Query', 'engine', true, { id: 'e' }, 10],
    ['Query', 'job', true, { id: 1, status: 'Executing' }, 2],
    ['Query', 'job', true, { id: 1, status: 'Finished' }, 600],
    ['Query', 'job', true, null, 2],
    ['Engine', 'jobs', false, null, 2],
    ['Engine', 'latestJob', false, { id: 1, status: 'Timeout' }, 600],
    ['Engine', 'latestJob', false, { id: 1, status: 'Init' }, 2],
    ['Job', 'engine', false, { id: 'e' }, 10],
    // Root fields added later (federation's _entities): the shortest TTL, never the longest.
    ['Query', '_entities', true, [], 2],
    ['Query', '__typename', true, 'Query', undefined],
    ['Engine', 'name', false, 'x', undefined],
    ['Job', 'tasks', false, [], undefined],
  ] as const)('%s.%s → %p', (parent, field, isRoot, result, expected) => {
    expect(fieldMaxAge(parent, field, isRoot, result, TTLS)).toBe(expected);
  });

  it('gives 0 (no-store) where a TTL of 0 disables the cache', () => {
    expect(fieldMaxAge('Query', 'engines', true, null, { ...TTLS, listMs: 0 })).toBe(0);
    expect(fieldMaxAge('Query', 'job', true, { status: 'Finished' }, { ...TTLS, terminalJobMs: 999 })).toBe(0);
  });
});

describe('recordCacheHints (the schema is changed in place: its invariant, checked)', () => {
  it('wraps exactly the fields that hint: the declared fetching fields and the other root fields', () => {
    const schema = recordCacheHints(buildGatewaySchema());
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      const isRoot = type === schema.getQueryType();
      for (const field of Object.values(type.getFields())) {
        const hints = fieldMaxAge(type.name, field.name, isRoot, null, TTLS) !== undefined;
        expect({ field: `${type.name}.${field.name}`, hinted: isHinted(field.resolve) }).toEqual({ field: `${type.name}.${field.name}`, hinted: hints });
      }
    }
  });

  it('refuses to be applied twice to one schema', () => {
    const schema = recordCacheHints(buildGatewaySchema());
    expect(() => recordCacheHints(schema)).toThrow(/applied twice/);
  });
});
