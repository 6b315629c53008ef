import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { composeServices } from '@apollo/composition';
import { ApolloServer, type ApolloServerOptionsWithGateway, type BaseContext } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { Kind, parse, print, type ObjectTypeDefinitionNode } from 'graphql';
import { request } from 'undici';
import { DEMO_TOKEN } from '../../src/simulator';
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
  type Deployment { id: ID! engine: Engine! }
  type Engine @key(fields: "id", resolvable: false) { id: ID! }
`;

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
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource({
        url,
        willSendRequest({ request: subgraphRequest }) {
          subgraphRequest.http?.headers.set('x-auth-token', DEMO_TOKEN);
        },
      }),
  });
  // @apollo/gateway 2.x implements the gateway interface Apollo Server 5 still accepts.
  router = new ApolloServer({ gateway: gateway as unknown as ApolloServerOptionsWithGateway<BaseContext>['gateway'] });
  ({ url: routerUrl } = await startStandaloneServer(router, { listen: { host: '127.0.0.1', port: 0 } }));
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
  const response = await request(routerUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ deployments { id engine { id name status jobs(first: 2) { totalCount } } } }' }),
  });
  const body = (await response.body.json()) as { data?: any; errors?: unknown };
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
