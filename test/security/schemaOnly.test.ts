import { getOperationAST, parse } from 'graphql';
import { isSchemaOnly } from '../../src/security/admission';
import { errorCodes, startHarness, type Harness } from '../support/harness';

/** Codegen and IDE plugins introspect without a token: schema-only operations need none. */

describe('without a token', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => h.simulator.resetCalls());

  it.each([
    ['introspection', '{ __schema { queryType { name } } }'],
    ['__typename', '{ __typename }'],
    ['__type through a fragment', 'query { ...T } fragment T on Query { __type(name: "Job") { name } }'],
    ["the subgraph's SDL", '{ _service { sdl } }'],
  ])('answers %s (no upstream call)', async (_name, query) => {
    const response = await h.gql(query, undefined, { 'x-auth-token': undefined });
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data).toBeDefined();
    expect(h.simulator.callCount()).toBe(0);
  });

  it.each([
    ['a query of the upstream', '{ engines(first: 1) { totalCount } }'],
    ['introspection beside a query of the upstream', '{ __typename engines(first: 1) { totalCount } }'],
    ['one through a fragment', 'query { ...E } fragment E on Query { __typename engines(first: 1) { totalCount } }'],
  ])('refuses %s with UNAUTHENTICATED before any upstream call (401 as application/graphql-response+json)', async (_name, query) => {
    const json = await h.gql(query, undefined, { 'x-auth-token': undefined });
    const strict = await h.gql(query, undefined, { 'x-auth-token': undefined, accept: 'application/graphql-response+json' });
    expect([json.status, strict.status]).toEqual([200, 401]);
    for (const response of [json, strict]) {
      expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
      expect(response.body.data).toBeUndefined();
    }
    expect(h.simulator.callCount()).toBe(0);
  });

  it("refuses _entities as a router's fetch: UNAUTHENTICATED in a 200, no upstream call", async () => {
    const query = '{ _entities(representations: [{ __typename: "Engine", id: "e" }]) { __typename } }';
    const response = await h.gql(query, undefined, { 'x-auth-token': undefined });
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
    expect(h.simulator.callCount()).toBe(0);
  });

  it('refuses a malformed project header on a query, but not on introspection', async () => {
    const bad = { 'x-project-id': 'no spaces allowed' };
    expect((await h.gql('{ engines(first: 1) { totalCount } }', undefined, bad)).status).toBe(200);
    expect((await h.gql('{ __typename }', undefined, { ...bad, 'x-auth-token': undefined })).status).toBe(200);
  });
});

describe('with introspection off (production)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ NODE_ENV: 'production' });
  });
  afterAll(() => h.close());

  it('introspection stays refused, token or not', async () => {
    const response = await h.gql('{ __schema { queryType { name } } }', undefined, { 'x-auth-token': undefined });
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    // The message names the gateway's setting, not an Apollo Server constructor option.
    expect(response.body.errors?.[0]?.message).toMatch(/ENABLE_INTROSPECTION=false/);
    expect(response.text).not.toMatch(/ApolloServer|introspection: true/);
  });
});

describe('isSchemaOnly', () => {
  const check = (source: string) => {
    const document = parse(source);
    return isSchemaOnly(document, getOperationAST(document)!);
  };

  it.each([
    ['{ __typename }', true],
    ['{ __schema { types { name } } __type(name: "Job") { name } }', true],
    ['{ ... on Query { __typename } }', true],
    ['{ _service { sdl } __typename }', true],
    ['{ _service { sdl } _entities(representations: []) { __typename } }', false],
    ['{ engines { totalCount } }', false],
    ['{ ... on Query { engine(id: "e") { id } } }', false],
    ['{ ...Missing }', false],
  ])('%s → %s', (source, expected) => {
    expect(check(source)).toBe(expected);
  });

  it('visits each fragment once: a chain of fragments that each spread the next twice is linear', () => {
    const depth = 200;
    const fragments = Array.from({ length: depth }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join('\n');
    const source = `{ ...F0 }\n${fragments}\nfragment F${depth} on Query { __typename }`;
    const started = performance.now();
    expect(check(source)).toBe(true);
    // 2^200 walks without the visited set; well under a second with it, on any machine.
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
