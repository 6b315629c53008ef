import { createHash } from 'node:crypto';
import { buildClientSchema, getIntrospectionQuery, parse, specifiedRules, validate, type IntrospectionQuery } from 'graphql';
import { buildGatewaySchema } from '../../src/graphql/buildSchema';
import { securityValidationRules } from '../../src/security/validationRules';
import { errorCodes, startHarness, type GqlResponse, type Harness } from '../support/harness';
import { send } from './http';

/** One operation asks for the schema once: `__schema` at most once, `__type` at most 8 times, each
 * counted wherever its fragment is spread, refused at validation with no token needed to be refused. */

const NO_TOKEN = { 'x-auth-token': undefined };
const SCHEMA = '__schema { queryType { name } }';
/** graphql-js's full introspection, every option on: what GraphiQL, Sandbox and codegen send, or less. */
const FULL = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
});
/** The full introspection under 30 aliases (14.9 KB, within MAX_ALIASES and MAX_TOKENS). */
const THIRTY = (() => {
  const selection = FULL.slice(FULL.indexOf('__schema'), FULL.indexOf('fragment FullType')).trim().replace(/\}\s*$/, '');
  const aliased = Array.from({ length: 30 }, (_, i) => `a${i}: ${selection}`).join('\n');
  return `query IntrospectionQuery { ${aliased} } ${FULL.slice(FULL.indexOf('fragment FullType'))}`;
})();
const types = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `t${i}: __type(name: "Job") { name fields { name } }`).join(' ')} }`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => h.simulator.resetCalls());

function refused(response: GqlResponse<unknown>, field: '__schema' | '__type'): void {
  expect(response.status).toBe(200);
  expect(errorCodes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  expect(response.body.errors?.[0]?.message).toMatch(new RegExp(`may select ${field} at most`));
  expect(response.body.data).toBeUndefined();
  expect(h.simulator.callCount()).toBe(0);
}

describe('__schema: once per operation', () => {
  it.each([
    ['aliased, 30 full introspections', THIRTY],
    ['aliased twice', `{ ${SCHEMA} again: ${SCHEMA} }`],
    ['once in a fragment, once in an inline fragment', `query { ...S ... on Query { again: ${SCHEMA} } } fragment S on Query { ${SCHEMA} }`],
    ['under @skip(if: true): counted as written', `{ ${SCHEMA} again: __schema @skip(if: true) { queryType { name } } }`],
  ])('refuses it %s with no token: GRAPHQL_VALIDATION_FAILED, nothing run', async (_name, query) => {
    refused(await h.gql(query, undefined, NO_TOKEN), '__schema');
  });

  it.each([
    ['graphql-js getIntrospectionQuery(), its defaults', getIntrospectionQuery()],
    ['graphql-js getIntrospectionQuery(), every option', FULL],
  ])('answers %s with no token, a schema a client can build', async (_name, query) => {
    const response = await h.gql<IntrospectionQuery>(query, undefined, NO_TOKEN);
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(buildClientSchema(response.body.data!).getQueryType()?.name).toBe('Query');
    expect(h.simulator.callCount()).toBe(0);
  });

  it('by APQ: the registration is refused, so a later request by hash alone (GET) finds nothing to run', async () => {
    const query = `{ ${SCHEMA} again: ${SCHEMA} }`;
    const extensions = JSON.stringify({ persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') } });
    const get = async (params: Record<string, string>) => {
      const url = `${h.gateway.url}?${new URLSearchParams(params).toString()}`;
      const response = await send(url, { headers: { 'apollo-require-preflight': 'true' } });
      return { status: response.status, body: response.json(), headers: response.headers, text: response.text };
    };
    refused(await get({ query, extensions }), '__schema');
    const byHash = await get({ extensions });
    expect(errorCodes(byHash)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(byHash.body.data).toBeUndefined();
  });

  it('refuses it after a shape admission knows valid: the known shape runs no rule past the literals', async () => {
    const valid = `query Schema { a: ${SCHEMA} }`;
    for (let i = 0; i < 2; i += 1) expect((await h.gql(valid, undefined, NO_TOKEN)).body.errors).toBeUndefined();
    refused(await h.gql(`query Schema { a: ${SCHEMA} b: ${SCHEMA} }`, undefined, NO_TOKEN), '__schema');
  });
});

describe('__type: at most 8 per operation', () => {
  it('answers 8 aliased, and one __schema beside them', async () => {
    const response = await h.gql(types(8).replace(/\}$/, `${SCHEMA} }`), undefined, NO_TOKEN);
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(Object.keys(response.body.data)).toHaveLength(9);
  });

  it("answers gql.tada's capability probe (four aliased __type)", async () => {
    const probe = `query IntrospectSupportQuery {
      directive: __type(name: "__Directive") { fields { name args { name } } }
      field: __type(name: "__Field") { fields { name args { name } } }
      type: __type(name: "__Type") { fields { name } }
      inputValue: __type(name: "__InputValue") { fields { name } }
    }`;
    const response = await h.gql(probe, undefined, NO_TOKEN);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.directive.fields.map((field: { name: string }) => field.name)).toContain('isRepeatable');
  });

  it.each([
    ['9 aliased', types(9)],
    ['5 in a fragment spread twice', `query { ...T ... on Query { ...T } } fragment T on Query ${types(5)}`],
  ])('refuses %s with no token', async (_name, query) => {
    refused(await h.gql(query, undefined, NO_TOKEN), '__type');
  });
});

describe('aliases below __schema and __type', () => {
  /** The full introspection's `types` under 29 aliases inside one `__schema`. */
  const TYPES_29 = (() => {
    const aliased = Array.from({ length: 29 }, (_, i) => `t${i}: types { ...FullType }`).join(' ');
    return `query X { __schema { queryType { name } ${aliased} } } ${FULL.slice(FULL.indexOf('fragment FullType'))}`;
  })();

  it.each([
    ['29 aliases of types in one __schema', TYPES_29, '__schema'],
    ['an alias in a fragment spread under __schema', '{ __schema { ...S } } fragment S on __Schema { a: types { name } }', '__schema'],
    ['an alias two levels down in an inline fragment', '{ __schema { ... on __Schema { types { f: fields { name } } } } }', '__schema'],
    ['an alias under __type', '{ __type(name: "Job") { f: fields { name } g: fields { name } } }', '__type'],
  ])('refuses %s with no token: GRAPHQL_VALIDATION_FAILED, nothing run', async (_name, query, field) => {
    const response = await h.gql(query, undefined, NO_TOKEN);
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(response.body.errors?.[0]?.message).toBe(`Fields under ${field} may not be aliased: each alias makes that part of the schema's answer again.`);
    expect(h.simulator.callCount()).toBe(0);
  });

  it('answers an alias that renames nothing, and aliases of __schema\'s own fields beside it', async () => {
    const response = await h.gql('{ __schema { types: types { name } } name: __typename }', undefined, NO_TOKEN);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.name).toBe('Query');
  });
});

describe('the count', () => {
  const schema = buildGatewaySchema();
  const rules = [...specifiedRules, ...securityValidationRules({ maxDepth: 12, maxAliases: 30, maxAliasLength: 128, enableIntrospection: true })];

  it('is linear: a chain of fragments that each spread the next twice (2^150 paths)', () => {
    const depth = 150;
    const fragments = Array.from({ length: depth }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join('\n');
    const document = parse(`{ ...F0 }\n${fragments}\nfragment F${depth} on Query { __type(name: "Job") { name } }`);
    const started = performance.now();
    const errors = validate(schema, document, rules);
    expect(errors.map((error) => error.message)).toEqual([expect.stringMatching(/may select __type at most 8 times/)]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('is linear below __schema too: a chain of fragments that each spread the next twice, an alias at its end', () => {
    const depth = 150;
    const fragments = Array.from({ length: depth }, (_, i) => `fragment F${i} on __Schema { ...F${i + 1} ...F${i + 1} }`).join('\n');
    const document = parse(`{ __schema { ...F0 } }\n${fragments}\nfragment F${depth} on __Schema { t: types { name } }`);
    const started = performance.now();
    const errors = validate(schema, document, rules);
    // Armor's alias count refuses it too (it counts each path).
    expect(errors.map((error) => error.message)).toContainEqual(expect.stringMatching(/under __schema may not be aliased/));
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('ends on a fragment cycle, which graphql-js refuses', () => {
    const document = parse(`{ ...A } fragment A on Query { ${SCHEMA} ...B } fragment B on Query { ...A }`);
    expect(validate(schema, document, rules).map((error) => error.message)).toEqual([
      expect.stringMatching(/Cannot spread fragment "A" within itself via "B"/),
    ]);
  });

  it('is per operation: a document of two operations with one __schema each is valid', () => {
    const document = parse(`query A { ${SCHEMA} } query B { ${SCHEMA} }`);
    expect(validate(schema, document, rules)).toEqual([]);
  });
});
