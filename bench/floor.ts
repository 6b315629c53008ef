import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { pageOffset, planPageCalls } from '../src/pagination/pages';
import { assertEngineId, paths } from '../src/upstream/paths';

/**
 * The floor: the least a server in front of CSE can do for the gateway's scenarios. It makes the
 * same upstream calls the gateway should make (one call per page window, the dashboard's
 * engine list then its job lists in parallel) and relays the upstream JSON untouched: no
 * parsing except the engine ids the dashboard needs, no mapping, no GraphQL. Whatever the
 * gateway costs above this is what the gateway adds.
 *
 *   GET /jobs?engine=<id>&start=<item>&count=<n>   one engine's items [start, start+n)
 *   GET /dashboard?engines=<n>&jobs=<m>            the first n engines and m jobs of each
 *
 * A window that needs two page calls is answered as `[page1,page2]`, the bodies side by side.
 */

export interface FloorOptions {
  /** Upstream base URL, e.g. the simulator's. */
  upstream: string;
  projectId: string;
  maxPageSize?: number;
  pageBase?: number;
  /** Keep-alive connections to the upstream (the gateway's dispatcher uses 32). */
  connections?: number;
}

export interface Floor {
  readonly server: Server;
  close(): Promise<void>;
}

class BadRequest extends Error {}

export function createFloorServer(options: FloorOptions): Floor {
  const origin = new URL(options.upstream);
  const prefix = origin.pathname.replace(/\/+$/, '');
  const pool = new Pool(origin.origin, { connections: options.connections ?? 32, keepAliveTimeout: 4000 });
  const maxPageSize = options.maxPageSize ?? 100;
  const pageBase = options.pageBase ?? 1;

  const get = (path: string, query: Record<string, string>, token: string) =>
    pool.request({
      method: 'GET',
      path: `${prefix}${path}?${new URLSearchParams(query).toString()}`,
      headers: { 'x-auth-token': token, accept: 'application/json', 'content-type': 'application/json;charset=UTF-8' },
    });

  async function jobs(params: URLSearchParams, token: string, response: ServerResponse): Promise<void> {
    const engineId = assertEngineId(params.get('engine') ?? '');
    const start = count(params, 'start', 0, Number.MAX_SAFE_INTEGER);
    const size = count(params, 'count', 1, maxPageSize);
    const calls = planPageCalls(start, start + size, maxPageSize);
    const path = paths.listJobs(options.projectId, engineId);
    const answers = await Promise.all(
      calls.map((call) => get(path, { offset: String(pageOffset(call, pageBase)), limit: String(call.size) }, token)),
    );
    const [only] = answers;
    if (answers.length === 1 && only !== undefined) {
      response.writeHead(only.statusCode, { 'content-type': 'application/json' });
      await pipeline(only.body, response);
      return;
    }
    const bodies = await Promise.all(answers.map((answer) => answer.body.arrayBuffer()));
    const failed = answers.find((answer) => answer.statusCode >= 300);
    sendParts(response, failed?.statusCode ?? 200, ['[', ...joined(bodies), ']']);
  }

  async function dashboard(params: URLSearchParams, token: string, response: ServerResponse): Promise<void> {
    const engines = count(params, 'engines', 1, maxPageSize);
    const jobsEach = count(params, 'jobs', 1, maxPageSize);
    const list = await get(paths.listEngines(options.projectId), { offset: String(pageBase), limit: String(engines) }, token);
    const listBody = await list.body.arrayBuffer();
    if (list.statusCode >= 300) {
      sendParts(response, list.statusCode, [listBody]);
      return;
    }
    // The one parse the floor cannot avoid: the job lists need the engine ids.
    const ids = ((JSON.parse(Buffer.from(listBody).toString('utf8')) as { data?: Array<{ id: string }> }).data ?? []).map((e) => e.id);
    const answers = await Promise.all(
      ids.map((id) => get(paths.listJobs(options.projectId, id), { offset: String(pageBase), limit: String(jobsEach) }, token)),
    );
    const bodies = await Promise.all(answers.map((answer) => answer.body.arrayBuffer()));
    sendParts(response, 200, ['{"engines":', listBody, ',"jobs":[', ...joined(bodies), ']}']);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // Only our own messages go back: an undici error would name the upstream address.
      const message = error instanceof BadRequest || isUserInput(error) ? (error as Error).message : undefined;
      const body = JSON.stringify({ error: message ?? 'upstream call failed' });
      if (!response.headersSent) sendParts(response, message === undefined ? 502 : 400, [body]);
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://floor.invalid');
    const token = request.headers['x-auth-token'];
    if (typeof token !== 'string' || token === '') throw new BadRequest('X-Auth-Token is required');
    if (url.pathname === '/jobs') return jobs(url.searchParams, token, response);
    if (url.pathname === '/dashboard') return dashboard(url.searchParams, token, response);
    sendParts(response, 404, ['{"error":"not found"}']);
  }

  return {
    server,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}

function count(params: URLSearchParams, name: string, min: number, max: number): number {
  const raw = params.get(name) ?? '';
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new BadRequest(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

/** GatewayError from the id check: the caller's mistake, like BadRequest. */
function isUserInput(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'BAD_USER_INPUT';
}

function joined(bodies: readonly ArrayBuffer[]): Array<string | ArrayBuffer> {
  return bodies.flatMap((body, i) => (i === 0 ? [body] : [',', body]));
}

function sendParts(response: ServerResponse, status: number, parts: ReadonlyArray<string | ArrayBuffer>): void {
  const body = Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  response.end(body);
}

/** As a child process of the benchmark: `node floor.js --upstream <url> --project <id>`. */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { upstream: { type: 'string' }, project: { type: 'string' }, port: { type: 'string', default: '0' } } });
  if (values.upstream === undefined || values.project === undefined) throw new Error('usage: floor --upstream <url> --project <id> [--port <n>]');
  const floor = createFloorServer({ upstream: values.upstream, projectId: values.project });
  await new Promise<void>((resolve) => floor.server.listen(Number(values.port), '127.0.0.1', resolve));
  const { port } = floor.server.address() as AddressInfo;
  process.stdout.write(`Floor ready at http://127.0.0.1:${port}\n`);
  const stop = (): void => void floor.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Orphaned by a benchmark that crashed: stop rather than hold the port.
  process.once('disconnect', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
