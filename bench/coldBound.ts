import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Kind, parse, type ArgumentNode, type DocumentNode, type FieldNode, type ValueNode } from 'graphql';
import { Pool } from 'undici';
import { pageOffset, planPageCalls } from '../src/pagination/pages';
import { paths } from '../src/upstream/paths';
import { closeServer, serveAsGateway, type Bound } from './boundServer';

/**
 * The bound for a cold page (S5, S6): the least any GraphQL server in Node must do for it, run
 * where the benchmark runs the gateway (`--gateway dist/bench/bench/coldBound.js`). Per request it
 * reads and parses the body, parses the document (graphql-js), finds `first` and `after`, makes
 * the floor's upstream call, parses the upstream JSON, builds the window's edges and writes them
 * as JSON. No validation, no execution engine, no error handling beyond a 400, no cache, no
 * telemetry, no bounds: what the gateway adds on top of this is its GraphQL machinery and its
 * protections; what this adds on top of the floor, no GraphQL gateway can avoid.
 *
 * It answers only the benchmark's page queries (S1, S2, S5, S6 and the cursor walk); anything
 * else gets `{"data":null}`. Settings as the gateway's: CSE_ENDPOINT, CSE_PROJECT_ID, HOST, PORT.
 */

interface Job {
  id: number | string;
  type?: string;
  status?: string;
  startTime?: number | null;
  tasks?: Array<{ id: number | string; taskName?: string; status?: string }>;
}

const MAX_PAGE_SIZE = 100;
const PAGE_BASE = 1;

function field(node: { selectionSet?: { selections: readonly unknown[] } } | undefined, name: string): FieldNode | undefined {
  return node?.selectionSet?.selections.find((s): s is FieldNode => (s as FieldNode).kind === Kind.FIELD && (s as FieldNode).name.value === name);
}

function argument(node: FieldNode, name: string, variables: Record<string, unknown>): unknown {
  const value: ValueNode | undefined = node.arguments?.find((a: ArgumentNode) => a.name.value === name)?.value;
  if (value === undefined) return undefined;
  if (value.kind === Kind.VARIABLE) return variables[value.name.value];
  if (value.kind === Kind.INT) return Number(value.value);
  if (value.kind === Kind.STRING) return value.value;
  return undefined;
}

const cursorOf = (position: number) => Buffer.from(`b|${position}`).toString('base64url');
const positionOf = (cursor: string) => Number(Buffer.from(cursor, 'base64url').toString().slice(2));

export function createColdBound(options: { upstream: string; projectId: string }): Bound {
  const upstream = new URL(options.upstream);
  const prefix = upstream.pathname.replace(/\/+$/, '');
  const pool = new Pool(upstream.origin, { connections: 32, keepAliveTimeout: 4000 });

  const answer = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await new Promise<string>((resolve, reject) => {
      let text = '';
      request.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text)).on('error', reject);
    });
    const { query, variables = {} } = JSON.parse(body) as { query: string; variables?: Record<string, unknown> };
    const document: DocumentNode = parse(query);
    const operation = document.definitions[0] as { selectionSet: { selections: readonly unknown[] } };
    const engine = field(operation, 'engine');
    const jobs = field(engine, 'jobs');
    if (engine === undefined || jobs === undefined) return send(response, 200, { data: null });
    const engineId = String(argument(engine, 'id', variables));
    const first = Number(argument(jobs, 'first', variables) ?? 20);
    const after = argument(jobs, 'after', variables);
    const start = typeof after === 'string' ? positionOf(after) + 1 : 0;
    const calls = planPageCalls(start, start + first, MAX_PAGE_SIZE);
    const pages = await Promise.all(
      calls.map(async (call) => {
        const query = `offset=${pageOffset(call, PAGE_BASE)}&limit=${call.size}`;
        const headers = { 'x-auth-token': String(request.headers['x-auth-token']), accept: 'application/json' };
        const answer = await pool.request({ method: 'GET', path: `${prefix}${paths.listJobs(options.projectId, engineId)}?${query}`, headers });
        return { call, page: (await answer.body.json()) as { data?: Job[]; total?: number } };
      }),
    );
    const edges = [];
    let total = 0;
    for (const { call, page } of pages) {
      total = page.total ?? 0;
      const items = page.data ?? [];
      for (let i = 0; i < items.length; i += 1) {
        const position = call.index * call.size + i;
        if (position < start || position >= start + first) continue;
        const job = items[i]!;
        const tasks = (job.tasks ?? []).map((task) => ({ id: String(task.id), name: task.taskName ?? null, status: task.status ?? null }));
        const startTime = typeof job.startTime === 'number' ? new Date(job.startTime).toISOString() : null;
        const node = { id: String(job.id), type: job.type ?? null, status: job.status ?? null, startTime, tasks };
        edges.push({ cursor: cursorOf(position), node });
      }
    }
    const last = edges.at(-1);
    const pageInfo = { hasNextPage: start + first < total, endCursor: last?.cursor ?? null };
    send(response, 200, { data: { engine: { jobs: { edges, pageInfo, totalCount: total } } } });
  };

  const server = createServer((request, response) => {
    answer(request, response).catch(() => send(response, 400, { errors: [{ message: 'bad request' }] }));
  });
  const close = async () => {
    await closeServer(server);
    await pool.close();
  };
  return { server, close };
}

function send(response: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/graphql-response+json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

if (require.main === module) {
  serveAsGateway(() => createColdBound({ upstream: process.env.CSE_ENDPOINT ?? '', projectId: process.env.CSE_PROJECT_ID ?? '' }));
}
