import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { isObjectType, type GraphQLSchema } from 'graphql';
import * as buildSchemaModule from '../../src/graphql/buildSchema';
import { Task } from '../../src/graphql/resolvers/Task';
import { SEED } from '@cse-jobs-gateway/simulator';
import { startHarness } from '../support/harness';

/**
 * No plugin of the gateway hooks `willResolveField`: Apollo then wraps no resolver, and a page of
 * 20 jobs with their tasks runs the plain resolvers (per-field hooks were a large share of CPU).
 * Apollo marks a schema whose resolvers it wrapped with a symbol; the check is that mark, with a
 * control proving the check sees it when a field-hooking plugin is installed.
 */
const PAGE = `{ engine(id: "${SEED.engines.big}") { jobs(first: 20) { edges { cursor node { id status tasks { id name status } } } } } }`;

function wrappedByApollo(schema: GraphQLSchema): boolean {
  return Object.getOwnPropertySymbols(schema).some((symbol) => symbol.description === 'apolloServerPluginsEnabled');
}

afterEach(() => jest.restoreAllMocks());

it('the gateway runs the plain resolvers: Apollo wraps none of its schema', async () => {
  const build = jest.spyOn(buildSchemaModule, 'buildGatewaySchema');
  const h = await startHarness();
  try {
    const schema = build.mock.results[0]?.value as GraphQLSchema;
    const response = await h.gql(PAGE);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.engine.jobs.edges).toHaveLength(20);
    expect(wrappedByApollo(schema)).toBe(false);
    const task = schema.getType('Task');
    expect(isObjectType(task) && task.getFields().name?.resolve).toBe(Task.name);
  } finally {
    await h.close();
  }
});

it('control: with a plugin hooking willResolveField, Apollo does wrap the schema', async () => {
  const schema = buildSchemaModule.buildGatewaySchema();
  const apollo = new ApolloServer({ schema, plugins: [ApolloServerPluginCacheControl(), ApolloServerPluginInlineTraceDisabled()] });
  await apollo.start();
  try {
    await apollo.executeOperation({ query: '{ __typename }' });
    expect(wrappedByApollo(schema)).toBe(true);
  } finally {
    await apollo.stop();
  }
});
