import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { composeServices } from '@apollo/composition';
import { ApolloServer, type ApolloServerOptionsWithGateway, type BaseContext } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { Kind, parse, print, type ObjectTypeDefinitionNode } from 'graphql';
import { request } from 'undici';
import { DEMO_PROJECT_ID, DEMO_TOKEN, SECOND_TOKEN } from '@cse-jobs-gateway/simulator';
import { printGatewaySubgraphSdl } from '../../src/tools/printSchema';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';

/**
 * The gateway composed into a supergraph with a second, test-only subgraph that references
 * `Engine` by id, and served by @apollo/gateway in-process: a query crossing both subgraphs.
 */

const DEPLOYMENTS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.14", import: ["@key"])
  type Query { deployments: [Deployment!]! }
  "A test-only deployment, owned by another team's subgraph, running on a CSE engine."
  type Deployment { id: ID! engine: Engine }
  type Engine @key(fields: "id", resolvable: false) { id: ID! }
`;

/** What the router forwards: the caller's identity, and W3C trace context. */
const PROPAGATED_HEADERS = ['x-auth-token', 'authorization', 'x-project-id', 'x-enterprise-project-id', 'traceparent', 'tracestate'] as const;
type RouterContext = { headers?: Record<string, string | string[] | undefined> };

/** A query through the router, as a client sends it (with the demo token unless told otherwise). */
async function viaRouter(query: string, headers: Record<string, string> = { 'x-auth-token': DEMO_TOKEN }) {
  const response = await request(routerUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
  return (await response.body.json()) as { data?: any; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

let h: Harness;
let deployments: ApolloServer;
let router: ApolloServer;
let routerUrl: string;
let supergraphSdl: string;
let engineIds: string[];

beforeAll(async () => {
  h = await startHarness(CACHES_OFF);
  const listed = await h.gql('{ engines(first: 4) { nodes { id } } }');
  engineIds = listed.body.data.engines.nodes.map((node: { id: string }) => node.id);

  // Five deployments on four distinct engines (the first engine twice).
  const rows = [...engineIds, engineIds[0]!].map((engineId, i) => ({ id: `d${i + 1}`, engineId }));
  deployments = new ApolloServer({
    schema: buildSubgraphSchema({
      typeDefs: parse(DEPLOYMENTS_SDL),
      resolvers: {
        Query: { deployments: () => rows },
        Deployment: { engine: (row: { engineId: string }) => ({ __typename: 'Engine', id: row.engineId }) },
      },
    }),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  const { url: deploymentsUrl } = await startStandaloneServer(deployments, { listen: { host: '127.0.0.1', port: 0 } });

  const composed = composeServices([
    { name: 'cse', typeDefs: parse(printGatewaySubgraphSdl()), url: h.gateway.url },
    { name: 'deployments', typeDefs: parse(DEPLOYMENTS_SDL), url: deploymentsUrl },
  ]);
  if (composed.errors !== undefined) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  supergraphSdl = composed.supergraphSdl;

  const gateway = new ApolloGateway({
    supergraphSdl,
    // The router forwards the caller's token to the CSE subgraph, as a real router would.
    // The router forwards the caller's identity and trace headers to the CSE subgraph: the
    // @apollo/gateway equivalent of the router.yaml `headers: propagate` rules in docs/federation.md.
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<RouterContext>({
        url,
        willSendRequest({ request: subgraphRequest, context }) {
          for (const name of PROPAGATED_HEADERS) {
            const value = context.headers?.[name];
            if (typeof value === 'string') subgraphRequest.http?.headers.set(name, value);
          }
        },
      }),
  });
  // @apollo/gateway 2.x implements the gateway interface Apollo Server 5 still accepts.
  router = new ApolloServer({ gateway: gateway as unknown as ApolloServerOptionsWithGateway<BaseContext>['gateway'] });
  ({ url: routerUrl } = await startStandaloneServer(router, {
    listen: { host: '127.0.0.1', port: 0 },
    context: async ({ req }) => ({ headers: req.headers }),
  }));
}, 60000);

afterAll(async () => {
  await router?.stop();
  await deployments?.stop();
  await h?.close();
});

it('composes: Engine is an entity shared by both subgraphs', () => {
  expect(supergraphSdl).toMatch(/type Engine\s+@join__type\(graph: CSE, key: "id"\)\s+@join__type\(graph: DEPLOYMENTS, key: "id", resolvable: false\)/);
});

it('runs a query across both subgraphs, resolving the engine references from one list call', async () => {
  h.simulator.resetCalls();
  const body = await viaRouter('{ deployments { id engine { id name status jobs(first: 2) { totalCount } } } }');
  expect(body.errors).toBeUndefined();
  const rows = body.data.deployments as Array<{ id: string; engine: { id: string; name: string; status: string; jobs: { totalCount: number } } }>;
  expect(rows.map((row) => [row.id, row.engine.id])).toEqual([...engineIds, engineIds[0]].map((id, i) => [`d${i + 1}`, id]));
  for (const row of rows) {
    expect(row.engine.name).toEqual(expect.any(String));
    expect(row.engine.jobs.totalCount).toEqual(expect.any(Number));
  }
  // Four distinct references, above the default threshold (3): one engine-list page instead of
  // four details calls, then one job list per distinct engine.
  expect(h.simulator.callCount({ route: 'listEngines' })).toBe(1);
  expect(h.simulator.callCount({ route: 'getEngine' })).toBe(0);
  expect(h.simulator.callCount({ route: 'listJobs' })).toBe(4);
  expect(h.simulator.calls).toHaveLength(5);
});

it('composes with its subscription fields: the supergraph carries Subscription.jobUpdated and engineJobEvents', () => {
  const subscription = parse(supergraphSdl).definitions.find(
    (definition): definition is ObjectTypeDefinitionNode => definition.kind === Kind.OBJECT_TYPE_DEFINITION && definition.name.value === 'Subscription',
  );
  const fields = Object.fromEntries(
    (subscription?.fields ?? []).map((field) => [field.name.value, `(${(field.arguments ?? []).map((arg) => `${arg.name.value}: ${print(arg.type)}`).join(', ')}): ${print(field.type)}`]),
  );
  expect(fields).toEqual({ jobUpdated: '(engineId: ID!, id: ID!): Job', engineJobEvents: '(engineId: ID!): JobEvent!' });
  expect(supergraphSdl).toMatch(/enum JobEventKind\b[^}]*CREATED[^}]*CHANGED/s);
});

it('forwards the caller\'s own token, project and trace context through the router to the upstream', async () => {
  h.simulator.resetCalls();
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const body = await viaRouter('{ deployments { engine { name } } }', { 'x-auth-token': SECOND_TOKEN, 'x-project-id': DEMO_PROJECT_ID, traceparent });
  expect(body.errors).toBeUndefined();
  const calls = h.simulator.calls;
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) {
    expect(call.headers['x-auth-token']).toBe(SECOND_TOKEN);
    expect(call.projectId).toBe(DEMO_PROJECT_ID);
    // Same trace, the gateway's own span.
    expect(call.headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  }
});

it('keeps the codes of its refusals through the router (QUERY_TOO_COMPLEX on _entities, UNAUTHENTICATED)', async () => {
  const costly = '{ deployments { engine { jobs(first: 100) { nodes { engine { jobs(first: 100) { totalCount } } } } } } }';
  const refused = await viaRouter(costly);
  expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
  const unauthenticated = await viaRouter('{ deployments { engine { name } } }', {});
  expect(unauthenticated.errors?.map((error) => error.extensions?.code)).toContain('UNAUTHENTICATED');
  // The same refusal to a client that accepts application/graphql-response+json is a 400.
  const direct = await h.gql(
    `{ e: engine(id: "${engineIds[0]}") { jobs(first: 100) { nodes { engine { jobs(first: 100) { totalCount } } } } } }`,
    undefined,
    { accept: 'application/graphql-response+json' },
  );
  expect([direct.status, direct.body.errors?.[0]?.extensions?.code]).toEqual([400, 'QUERY_TOO_COMPLEX']);
});

it("labels the router's fetches by the client operation's name in the subgraph's metrics", async () => {
  await viaRouter('query Dashboard { deployments { engine { name } } }');
  const metrics = await request(h.gateway.url.replace('/graphql', '/metrics')).then((response) => response.body.text());
  expect(metrics).toMatch(/gateway_operations_total\{operation="Dashboard",outcome="success"\} 1/);
  expect(metrics).not.toMatch(/operation="Dashboard__/);
});

it('composes beside another Relay-style subgraph that defines PageInfo too (@shareable)', () => {
  const catalog = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.0", import: ["@shareable"])
    type Query { products(first: Int, after: String): ProductConnection! }
    type ProductConnection { nodes: [Product!]! pageInfo: PageInfo! }
    type Product { id: ID! }
    type PageInfo @shareable { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
  `;
  const composed = composeServices([
    { name: 'cse', typeDefs: parse(printGatewaySubgraphSdl()), url: h.gateway.url },
    { name: 'catalog', typeDefs: parse(catalog), url: 'http://catalog.invalid/graphql' },
  ]);
  expect(composed.errors?.map((error) => error.message)).toBeUndefined();
});
