import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildSchema,
  graphql,
  GraphQLError,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parseValue as parseValueNode,
  type GraphQLScalarType,
} from 'graphql';
import { DateTimeScalar, JSONScalar } from '../../src/graphql/scalars';

describe('DateTimeScalar', () => {
  it('is named DateTime and carries the SDL description', () => {
    // assumeValidSDL: the file uses federation directives (@key) declared by @apollo/subgraph.
    const sdl = buildSchema(readFileSync(join(__dirname, '../../schema/schema.graphql'), 'utf8'), { assumeValidSDL: true });
    for (const scalar of [DateTimeScalar, JSONScalar]) {
      const declared = sdl.getType(scalar.name) as GraphQLScalarType;
      expect(declared).toBeDefined();
      expect(scalar.description).toBe(declared.description);
    }
  });

  it.each<[string, unknown, string]>([
    ['epoch ms', 1636540095901, '2021-11-10T10:28:15.901Z'],
    ['a Date', new Date(1636540095901), '2021-11-10T10:28:15.901Z'],
    ['epoch 0', 0, '1970-01-01T00:00:00.000Z'],
  ])('serializes %s', (_label, value, text) => {
    expect(DateTimeScalar.serialize(value)).toBe(text);
  });

  it.each<[string, unknown]>([
    ['a string', '2021-11-10T10:28:15.901Z'],
    ['NaN', Number.NaN],
    ['an invalid Date', new Date(Number.NaN)],
    ['a number beyond the Date range', 1e20],
    ['null', null],
    ['an object', {}],
  ])('refuses to serialize %s, without a client-facing code (a resolver bug)', (_label, value) => {
    let caught: unknown;
    try {
      DateTimeScalar.serialize(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GraphQLError);
    expect((caught as GraphQLError).extensions.code).toBeUndefined();
  });

  it.each<[string, number]>([
    ['2021-11-10T10:28:15.901Z', 1636540095901],
    ['2021-11-10T18:28:15.901+08:00', 1636540095901],
  ])('parses the variable value %s', (text, ms) => {
    expect(DateTimeScalar.parseValue(text)).toBe(ms);
  });

  it.each<[string, unknown, RegExp]>([
    ['no time zone', '2021-11-10T10:28:15', /no time zone/],
    ['an impossible date', '2021-02-30T00:00:00Z', /February 2021 has 28 days/],
    ['garbage', 'soon', /not an RFC 3339/],
    ['epoch ms as a number', 1636540095901, /must be a string/],
    ['null', null, /must be a string/],
    ['an object', { at: 1 }, /must be a string/],
  ])('refuses the variable value %s as BAD_USER_INPUT', (_label, value, why) => {
    let caught: unknown;
    try {
      DateTimeScalar.parseValue(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GraphQLError);
    expect((caught as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
    expect((caught as GraphQLError).message).toMatch(why);
  });

  it.each<[string, number]>([['"2021-11-10T10:28:15.901Z"', 1636540095901]])('parses the literal %s', (literal, ms) => {
    expect(DateTimeScalar.parseLiteral(parseValueNode(literal), undefined)).toBe(ms);
  });

  it.each<[string, RegExp]>([
    ['1636540095901', /must be a string .*, got 1636540095901$/],
    ['1.5', /got 1\.5$/],
    ['true', /got true$/],
    ['{at: "x"}', /got \{at: "x"\}$/],
    [`[${'1, '.repeat(100)}1]`, /got \[1, 1, .*…$/],
    ['"2021-11-10"', /no time zone/],
  ])('refuses the literal %s as BAD_USER_INPUT', (literal, why) => {
    let caught: unknown;
    try {
      DateTimeScalar.parseLiteral(parseValueNode(literal), undefined);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GraphQLError);
    expect((caught as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
    expect((caught as GraphQLError).message).toMatch(why);
    expect((caught as GraphQLError).nodes).toHaveLength(1);
  });

  describe('through graphql-js', () => {
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'Query',
        fields: {
          echo: {
            type: DateTimeScalar,
            args: { at: { type: DateTimeScalar } },
            resolve: (_root, { at }: { at?: number }) => at,
          },
          kind: {
            type: GraphQLString,
            args: { at: { type: DateTimeScalar } },
            resolve: (_root, { at }: { at?: unknown }) => typeof at,
          },
        },
      }),
    });

    it('hands resolvers epoch ms and answers ISO text', async () => {
      const result = await graphql({
        schema,
        source: 'query ($v: DateTime) { a: echo(at: "2021-11-10T18:28:15.901+08:00") b: echo(at: $v) kind(at: $v) }',
        variableValues: { v: '2021-11-10T10:28:15.901Z' },
      });
      expect(result).toEqual({
        data: { a: '2021-11-10T10:28:15.901Z', b: '2021-11-10T10:28:15.901Z', kind: 'number' },
      });
    });

    it('keeps BAD_USER_INPUT on a refused variable', async () => {
      const result = await graphql({
        schema,
        source: 'query ($v: DateTime) { echo(at: $v) }',
        variableValues: { v: '2021-02-30T00:00:00Z' },
      });
      expect(result.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toMatch(/February 2021 has 28 days/);
    });

    it('keeps BAD_USER_INPUT on a refused literal', async () => {
      const result = await graphql({ schema, source: '{ echo(at: 5) }' });
      expect(result.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.locations).toEqual([{ line: 1, column: 12 }]);
    });
  });
});

describe('JSONScalar', () => {
  it('is named JSON', () => {
    expect(JSONScalar.name).toBe('JSON');
  });

  it.each<[string, unknown]>([
    ['an object', { a: 1, b: [true, null, 'x'] }],
    ['an array', [1, 2]],
    ['a string', 'install finished'],
    ['a number', 4.5],
    ['a boolean', false],
    ['null', null],
  ])('serializes %s unchanged', (_label, value) => {
    expect(JSONScalar.serialize(value)).toEqual(value);
  });

  it('parses literals of every JSON kind', () => {
    expect(JSONScalar.parseLiteral(parseValueNode('{a: 1, b: [1.5, "x", null, true]}'), undefined)).toEqual({
      a: 1,
      b: [1.5, 'x', null, true],
    });
  });

  it('works in a schema under graphql 16', async () => {
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'Query',
        fields: { output: { type: JSONScalar, resolve: () => ({ endpoint: '10.0.0.1:30100', ports: [30100] }) } },
      }),
    });
    expect(await graphql({ schema, source: '{ output }' })).toEqual({
      data: { output: { endpoint: '10.0.0.1:30100', ports: [30100] } },
    });
  });
});
