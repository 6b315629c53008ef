import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type GraphQLFormattedError } from 'graphql';
import { Pool } from 'undici';
import { loadTypeDefs } from '../src/graphql/buildSchema';
import { DocumentStore } from '../src/graphql/documentStore';
import { createOperationExecutor, executionPlugin } from '../src/graphql/execution/operationExecutor';
import { mapJobStatus, mapJobType } from '../src/mapping/enums';
import { pageOffset, planPageCalls } from '../src/pagination/pages';
import { paths } from '../src/upstream/paths';
import { closeServer, serveAsGateway, type Bound } from './boundServer';

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

interface UpstreamJob {
  id: number | string;
  type?: string;
  status?: string;
  startTime?: number | null;
  tasks?: Array<{ id: number | string; taskName?: string; status?: string; type?: string }>;
}

interface Context extends BaseContext {
  readonly token: string;
}

const MAX_PAGE_SIZE = 100;
const PAGE_BASE = 1;

/** The package's schema/ (the benchmark's build sits deeper than the gateway's, and tests run the source). */
function schemaDir(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'schema', 'schema.graphql'))) return join(dir, 'schema');
    if (dirname(dir) === dir) throw new Error('stackBound: no schema/ above its own directory');
  }
}

const cursorOf = (position: number) => Buffer.from(`b|${position}`).toString('base64url');
const positionOf = (cursor: string) => Number(Buffer.from(cursor, 'base64url').toString().slice(2));

function resolvers(pool: Pool, prefix: string, projectId: string) {
  const page = async (engineId: string, token: string, call: { index: number; size: number }) => {
    const query = `offset=${pageOffset(call, PAGE_BASE)}&limit=${call.size}`;
    const headers = { 'x-auth-token': token, accept: 'application/json' };
    const answer = await pool.request({ method: 'GET', path: `${prefix}${paths.listJobs(projectId, engineId)}?${query}`, headers });
    return { call, page: (await answer.body.json()) as { data?: UpstreamJob[]; total?: number } };
  };
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
        const pages = await Promise.all(planPageCalls(start, start + first, MAX_PAGE_SIZE).map((call) => page(id, token, call)));
        const edges = [];
        let total = 0;
        for (const { call, page } of pages) {
          total = page.total ?? 0;
          const items = page.data ?? [];
          for (let i = 0; i < items.length; i += 1) {
            const position = call.index * call.size + i;
            if (position >= start && position < start + first) edges.push({ cursor: cursorOf(position), node: items[i] });
          }
        }
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
  const upstream = new URL(options.upstream);
  const pool = new Pool(upstream.origin, { connections: 32, keepAliveTimeout: 4000 });
  const schema = buildSubgraphSchema({
    typeDefs: parse(loadTypeDefs(schemaDir())),
    resolvers: resolvers(pool, upstream.pathname.replace(/\/+$/, ''), options.projectId) as unknown as GraphQLResolverMap<unknown>,
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
