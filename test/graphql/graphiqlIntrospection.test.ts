import { buildClientSchema, introspectionFromSchema, isObjectType, isSpecifiedDirective, Kind, parse, type IntrospectionQuery } from 'graphql';
import { request } from 'undici';
import { buildGatewaySchema, loadTypeDefs } from '../../src/graphql/buildSchema';
import { GRAPHIQL_ASSETS_PATH, withoutFederationInternals } from '../../src/graphql/graphiql';
import { startHarness, type Harness } from '../support/harness';

/**
 * GraphiQL's documentation pane shows the API, not the subgraph plumbing @apollo/subgraph adds for
 * routers: the page's fetcher takes it out of GraphiQL's introspection. Routers still get the SDL.
 */

const schema = buildGatewaySchema();
const introspection = { data: introspectionFromSchema(schema) };
const PLUMBING_TYPES = ['_Any', '_Entity', '_Service', 'link__Import', 'link__Purpose', 'federation__FieldSet'];

/** The types schema/ defines, plus the built-in scalars and introspection types. */
function apiTypeNames(): string[] {
  const defined = parse(loadTypeDefs())
    .definitions.filter((definition) => 'name' in definition && definition.kind !== Kind.DIRECTIVE_DEFINITION)
    .map((definition) => (definition as { name: { value: string } }).name.value);
  const builtIn = Object.keys(schema.getTypeMap()).filter((name) => name.startsWith('__') || ['String', 'Boolean', 'ID', 'Int', 'Float'].includes(name));
  return [...new Set([...defined, ...builtIn])].sort();
}

it('the full introspection has the plumbing (what the pane showed)', () => {
  const names = introspection.data.__schema.types.map((type) => type.name);
  for (const name of PLUMBING_TYPES) expect(names).toContain(name);
});

describe('withoutFederationInternals', () => {
  const filtered = withoutFederationInternals(introspection) as { data: IntrospectionQuery };
  const client = buildClientSchema(filtered.data);

  it('leaves exactly the types of schema/ (and the built-in ones), as a schema GraphiQL can build', () => {
    expect(Object.keys(client.getTypeMap()).sort()).toEqual(apiTypeNames());
  });

  it('takes _service and _entities off Query, and nothing else', () => {
    const query = client.getQueryType()!;
    expect(Object.keys(query.getFields()).sort()).toEqual(['engine', 'engines', 'job']);
    for (const type of Object.values(client.getTypeMap())) {
      if (!isObjectType(type) || type.name === 'Query') continue;
      expect(Object.keys(type.getFields())).toEqual(Object.keys((schema.getType(type.name) as typeof type).getFields()));
    }
  });

  it('keeps the directives a client can use, and none of the type-system plumbing (@link, @key, @cost …)', () => {
    const specified = schema.getDirectives().filter(isSpecifiedDirective).map((directive) => directive.name);
    expect(schema.getDirectives().map((directive) => directive.name)).toEqual(expect.arrayContaining(['link', 'key', 'cost', 'listSize']));
    expect(client.getDirectives().map((directive) => directive.name).sort()).toEqual(specified.sort());
  });

  it('runs from its own source text, as the page runs it, with the same result', () => {
    const fromSource = new Function(`return (${withoutFederationInternals.toString()});`)() as typeof withoutFederationInternals;
    expect(fromSource(introspection)).toEqual(filtered);
  });

  it.each([[{ errors: [{ message: 'x' }] }], [{ data: null }], [{ data: { __schema: {} } }], [null]])('passes %j through unchanged', (result) => {
    expect(withoutFederationInternals(result)).toBe(result);
  });
});

describe('served with EXPLORER=graphiql', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ EXPLORER: 'graphiql', LOG_LEVEL: 'silent' });
  });
  afterAll(() => h?.close());

  it("the page's start script filters GraphiQL's introspection", async () => {
    const response = await request(new URL(`${GRAPHIQL_ASSETS_PATH}/start.js`, h.gateway.url));
    const script = await response.body.text();
    expect(script).toContain(withoutFederationInternals.toString());
    expect(script).toMatch(/operationName === 'IntrospectionQuery'/);
  });

  it('a router still reads the whole SDL from _service, and the plumbing from introspection', async () => {
    const sdl = await h.gql('{ _service { sdl } }');
    expect(sdl.body.errors).toBeUndefined();
    expect(sdl.body.data._service.sdl).toMatch(/type Engine\s+@key\(fields: "id"\)/);
    const types = await h.gql('{ __schema { types { name } } }');
    expect(types.body.data.__schema.types.map((type: { name: string }) => type.name)).toEqual(expect.arrayContaining(PLUMBING_TYPES));
  });
});
