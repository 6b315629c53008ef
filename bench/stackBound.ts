import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type GraphQLFormattedError } from 'graphql';
import { loadTypeDefs } from '../src/graphql/buildSchema';
import { DocumentStore } from '../src/graphql/documentStore';
import { createOperationExecutor, executionPlugin } from '../src/graphql/execution/operationExecutor';
import { mapJobStatus, mapJobType } from '../src/mapping/enums';
import { closeServer, cursorOf, jobWindowOf, positionOf, serveAsGateway, type Bound, type JobWindow, type UpstreamJob } from './boundServer';

/**
 * The bound of the chosen stack for a cold page (S5, S6): coldBound.ts's work served through
 * Apollo Server 5 and the gateway's schema, with resolvers that do only that work — no
 * admission, bounds, caches, loaders, resilience, cursor checks or telemetry. Run where the
 * benchmark runs the gateway (`--gateway dist/bench/bench/stackBound.js`). `STACK_BOUND`:
 *
 * - `apollo`: Apollo Server's defaults (its parse, its full validation, graphql-js's execute);
 * - `lean` (default): the least the stack needs, as the gateway runs it: a parse and no
 *   validation at all, handed to Apollo through the gateway's document store, and the gateway's
 *   executor (graphql-jit plans by document shape) in Apollo's `responseForOperation` hook.
 *
 * Settings as the gateway's: CSE_ENDPOINT, CSE_PROJECT_ID, HOST, PORT.
 */

interface Context extends BaseContext {
  readonly token: string;
}


/** The package's schema/ (the benchmark's build sits deeper than the gateway's, and tests run the source). */
function schemaDir(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'schema', 'schema.graphql'))) return join(dir, 'schema');
    if (dirname(dir) === dir) throw new Error('stackBound: no schema/ above its own directory');
  }
}


function resolvers(window: JobWindow) {
  return {
    Query: {
      engine: (_: unknown, { id }: { id: string }) => ({ id }),
      // Only the benchmark's warm-up asks: no engines (coldBound.ts answers it `null`).
      engines: () => ({ edges: [], nodes: [], pageInfo: { hasNextPage: false, hasPreviousPage: false }, totalCount: 0 }),
    },
    Engine: {
      jobs: async ({ id }: { id: string }, args: { first?: number; after?: string }, { token }: Context) => {
        const first = args.first ?? 20;
        const start = typeof args.after === 'string' ? positionOf(args.after) + 1 : 0;
        const { items, total } = await window(id, token, start, first);
        const edges = items.map(({ position, job }) => ({ cursor: cursorOf(position), node: job }));
        const pageInfo = { hasNextPage: start + first < total, hasPreviousPage: false, endCursor: edges.at(-1)?.cursor ?? null };
        return { edges, pageInfo, totalCount: total };
      },
    },
    Job: {
      id: (job: UpstreamJob) => String(job.id),
      type: (job: UpstreamJob) => mapJobType(job.type),
      status: (job: UpstreamJob) => mapJobStatus(job.status),
      startTime: (job: UpstreamJob) => (typeof job.startTime === 'number' ? new Date(job.startTime).toISOString() : null),
      tasks: (job: UpstreamJob) => job.tasks ?? [],
    },
    Task: {
      id: (task: { id: number | string }) => String(task.id),
      name: (task: { taskName?: string }) => task.taskName ?? null,
      status: (task: { status?: string }) => mapJobStatus(task.status),
    },
  };
}

/** The parse Apollo would make, handed over through the store so that Apollo neither parses nor validates. */
function parseOnly(store: DocumentStore): ApolloServerPlugin<Context> {
  return {
    requestDidStart: async () => ({
      didResolveSource: async ({ source, queryHash }) => store.handOff(queryHash, parse(source)),
    }),
  };
}

export async function createStackBound(options: { upstream: string; projectId: string; mode: 'lean' | 'apollo' }): Promise<Bound> {
  const { window, pool } = jobWindowOf(options.upstream, options.projectId);
  const schema = buildSubgraphSchema({
    typeDefs: parse(loadTypeDefs(schemaDir())),
    resolvers: resolvers(window) as unknown as GraphQLResolverMap<unknown>,
  });
  const store = new DocumentStore(32 * 1024 * 1024);
  const executor = createOperationExecutor(schema, { mode: 'adaptive', compileAfterUses: 3, plansMaxBytes: 32 * 1024 * 1024 });
  const formatError = (formatted: GraphQLFormattedError) => formatted;
  const apollo = new ApolloServer<Context>({
    schema,
    stringifyResult: (result) => JSON.stringify(result),
    // A subgraph's inline traces are for a router that asks; the gateway turns them off too.
    ...(options.mode === 'lean'
      ? {
          documentStore: store,
          plugins: [
            executionPlugin<Context>(executor, { formatError, includeStacktraceInErrorResponses: false, didEncounterErrors: () => {} }),
            parseOnly(store),
            ApolloServerPluginInlineTraceDisabled(),
          ],
        }
      : { plugins: [ApolloServerPluginInlineTraceDisabled()] }),
  });
  await apollo.start();

  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    const text = await new Promise<string>((resolve, reject) => {
      let body = '';
      request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve(body)).on('error', reject);
    });
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string') headers.set(name, value);
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: request.method ?? 'POST', headers, search: '', body: JSON.parse(text) },
      context: async () => ({ token: String(request.headers['x-auth-token']) }),
    });
    const body = result.body.kind === 'complete' ? result.body.string : '';
    response.writeHead(result.status ?? 200, { ...Object.fromEntries(result.headers), 'content-length': Buffer.byteLength(body) });
    response.end(body);
  };
  const server = createServer((request, response) => {
    answer(request, response).catch(() => {
      response.writeHead(400);
      response.end();
    });
  });
  const close = async () => {
    await closeServer(server);
    await Promise.all([apollo.stop(), pool.close()]);
  };
  return { server, close };
}

if (require.main === module) {
  const mode = process.env.STACK_BOUND === 'apollo' ? 'apollo' : 'lean';
  serveAsGateway(() => createStackBound({ upstream: process.env.CSE_ENDPOINT ?? '', projectId: process.env.CSE_PROJECT_ID ?? '', mode }));
}
