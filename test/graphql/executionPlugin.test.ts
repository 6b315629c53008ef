import {
  ApolloServer,
  type ApolloServerOptionsWithGateway,
  type ApolloServerPlugin,
  type BaseContext,
  type GraphQLResponse,
} from '@apollo/server';
import { buildSchema, GraphQLError, type GraphQLFieldResolver, type GraphQLFormattedError } from 'graphql';
import { createOperationExecutor, executionPlugin } from '../../src/graphql/execution/operationExecutor';

const typeDefs = `type Query {
  a: Int
  boom: Int
  teapot: Int
  unformattable: Int
  strict: Int!
  echo(n: Int!): Int
}`;

const resolvers: Record<string, GraphQLFieldResolver<unknown, unknown>> = {
  a: () => 1,
  boom: () => {
    throw new Error('a bug');
  },
  teapot: () => {
    throw new GraphQLError('short and stout', {
      extensions: { code: 'TEAPOT', http: { status: 418, headers: new Map([['x-pot', 'tea']]) } },
    });
  },
  unformattable: () => {
    throw new GraphQLError('the formatter throws on this one');
  },
  strict: () => null,
  echo: (_source, { n }) => n,
};

const formatError = (formatted: GraphQLFormattedError): GraphQLFormattedError => {
  if (formatted.message.startsWith('the formatter throws')) throw new Error('formatter failed');
  return formatted;
};

type Answer = { status: number | undefined; headers: [string, string][]; body: unknown; heard: string[][] };
type Executor = Parameters<typeof executionPlugin>[0];

async function answer(server: ApolloServer, heard: string[][], query: string, variables?: Record<string, unknown>, operationName?: string): Promise<Answer> {
  heard.length = 0;
  const response: GraphQLResponse = await server.executeOperation({ query, variables, operationName });
  const body = response.body.kind === 'single' ? response.body.singleResult : response.body;
  return { status: response.http.status, headers: [...response.http.headers], body, heard };
}

/**
 * One executor run by Apollo Server as a gateway's (the reference: how the gateway ran it before)
 * and by the plugin, each heard by a `didEncounterErrors` listener.
 */
async function servers(executor: Executor) {
  const schema = buildSchema(typeDefs);
  const fields = schema.getQueryType()!.getFields();
  for (const [name, resolve] of Object.entries(resolvers)) fields[name]!.resolve = resolve;
  const heardByApollo: string[][] = [];
  const listening: ApolloServerPlugin = {
    requestDidStart: async () => ({
      didEncounterErrors: async ({ errors }) => {
        heardByApollo.push(errors.map((error) => error.message));
      },
    }),
  };
  const gateway: ApolloServerOptionsWithGateway<BaseContext>['gateway'] = {
    load: async () => ({
      executor: (context) => executor({
        document: context.document,
        operation: context.operation,
        operationName: context.request.operationName ?? null,
        variableValues: context.request.variables,
        contextValue: context.context,
      }),
    }),
    onSchemaLoadOrUpdate: (callback) => {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    stop: async () => {},
  };
  const reference = new ApolloServer({ gateway, formatError, plugins: [listening] });
  const heardByPlugin: string[][] = [];
  const plugin = executionPlugin(executor, {
    formatError,
    includeStacktraceInErrorResponses: false,
    didEncounterErrors: (_context, errors) => {
      heardByPlugin.push(errors.map((error) => error.message));
    },
  });
  const ours = new ApolloServer({ schema, formatError, plugins: [plugin] });
  await Promise.all([reference.start(), ours.start()]);
  return {
    schema,
    same: async (query: string, variables?: Record<string, unknown>, operationName?: string) => {
      const expected = await answer(reference, heardByApollo, query, variables, operationName);
      expect(await answer(ours, heardByPlugin, query, variables, operationName)).toEqual(expected);
      return expected;
    },
    stop: () => Promise.all([reference.stop(), ours.stop()]),
  };
}

describe('execution in Apollo\'s responseForOperation hook', () => {
  let running: Awaited<ReturnType<typeof servers>>;
  beforeAll(async () => {
    running = await servers((request) => executor(request));
  });
  afterAll(() => running.stop());
  let executor: Executor;

  it.each<[string, string, Record<string, unknown> | undefined, string | undefined]>([
    ['data', '{ a }', undefined, undefined],
    ['partial data and a masked bug', '{ a boom }', undefined, undefined],
    ['an error\'s code, status and header', '{ a teapot }', undefined, undefined],
    ['a formatter that throws', '{ unformattable }', undefined, undefined],
    ['a null for a non-null root field: data null, 200', '{ strict }', undefined, undefined],
    ['a variable of the wrong type: BAD_USER_INPUT, 400', 'query Q($n: Int!) { echo(n: $n) }', { n: 'x' }, undefined],
    ['a missing variable: BAD_USER_INPUT, 400', 'query Q($n: Int!) { echo(n: $n) }', {}, undefined],
    ['an operation the document lacks: OPERATION_RESOLUTION_FAILURE, 400', 'query Q { a }', undefined, 'Z'],
  ])('answers %s as Apollo answered the gateway executor\'s result', async (_name, query, variables, operationName) => {
    for (const mode of ['graphql-js', 'adaptive'] as const) {
      executor = createOperationExecutor(running.schema, { mode, compileAfterUses: 1, plansMaxBytes: 1 << 20 });
      // Twice: the second run of a hot shape is graphql-jit's under `adaptive`.
      for (let i = 0; i < 2; i += 1) {
        await running.same(query, variables, operationName);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  });

  it('answers an executor that throws with 500 and the error heard and formatted, as Apollo did', async () => {
    executor = async () => Promise.reject(new Error('a bug'));
    expect(await running.same('{ a }')).toMatchObject({
      status: 500,
      body: { errors: [{ message: 'a bug', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] },
      heard: [['a bug']],
    });
  });
});
