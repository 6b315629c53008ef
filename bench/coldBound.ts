import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Kind, parse, type ArgumentNode, type DocumentNode, type FieldNode, type ValueNode } from 'graphql';
import { closeServer, cursorOf, jobWindowOf, positionOf, serveAsGateway, type Bound } from './boundServer';

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

export function createColdBound(options: { upstream: string; projectId: string }): Bound {
  const { window, pool } = jobWindowOf(options.upstream, options.projectId);

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
    const { items, total } = await window(engineId, String(request.headers['x-auth-token']), start, first);
    const edges = items.map(({ position, job }) => {
      const tasks = (job.tasks ?? []).map((task) => ({ id: String(task.id), name: task.taskName ?? null, status: task.status ?? null }));
      const startTime = typeof job.startTime === 'number' ? new Date(job.startTime).toISOString() : null;
      const node = { id: String(job.id), type: job.type ?? null, status: job.status ?? null, startTime, tasks };
      return { cursor: cursorOf(position), node };
    });
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
