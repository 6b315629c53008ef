import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { pageOffset, planPageCalls } from '../src/pagination/pages';
import { paths } from '../src/upstream/paths';

/** A server the benchmark runs in the gateway's place (coldBound.ts, stackBound.ts), and the work they share. */
export interface Bound {
  readonly server: Server;
  close(): Promise<void>;
}

/** Closes `server` and its kept-alive connections. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** As the benchmark starts a gateway: its settings (HOST, PORT), its ready line, and a stop on its signals. */
export function serveAsGateway(create: () => Bound | Promise<Bound>): void {
  const serve = async () => {
    const bound = await create();
    const { server } = bound;
    await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // The gateway's ready line, which the benchmark waits for.
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}/graphql`, msg: 'gateway listening' })}\n`);
    const stop = (): void => void bound.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.once('disconnect', stop);
  };
  serve().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

/** A job of an upstream page, as much of it as the bounds answer. */
export interface UpstreamJob {
  id: number | string;
  type?: string;
  status?: string;
  startTime?: number | null;
  tasks?: Array<{ id: number | string; taskName?: string; status?: string }>;
}

const MAX_PAGE_SIZE = 100;
const PAGE_BASE = 1;

/** The bounds' cursors: an item's position, nothing checked. */
export const cursorOf = (position: number) => Buffer.from(`b|${position}`).toString('base64url');
export const positionOf = (cursor: string) => Number(Buffer.from(cursor, 'base64url').toString().slice(2));

/** The jobs [start, start + first) of an engine by the floor's upstream calls, each with its position; and the list's total. */
export type JobWindow = (engineId: string, token: string, start: number, first: number) =>
  Promise<{ items: Array<{ position: number; job: UpstreamJob }>; total: number }>;

export function jobWindowOf(upstream: string, projectId: string): { window: JobWindow; pool: Pool } {
  const origin = new URL(upstream);
  const prefix = origin.pathname.replace(/\/+$/, '');
  const pool = new Pool(origin.origin, { connections: 32, keepAliveTimeout: 4000 });
  const window: JobWindow = async (engineId, token, start, first) => {
    const pages = await Promise.all(
      planPageCalls(start, start + first, MAX_PAGE_SIZE).map(async (call) => {
        const query = `offset=${pageOffset(call, PAGE_BASE)}&limit=${call.size}`;
        const headers = { 'x-auth-token': token, accept: 'application/json' };
        const answer = await pool.request({ method: 'GET', path: `${prefix}${paths.listJobs(projectId, engineId)}?${query}`, headers });
        return { call, page: (await answer.body.json()) as { data?: UpstreamJob[]; total?: number } };
      }),
    );
    const items: Array<{ position: number; job: UpstreamJob }> = [];
    let total = 0;
    for (const { call, page } of pages) {
      total = page.total ?? 0;
      (page.data ?? []).forEach((job, i) => {
        const position = call.index * call.size + i;
        if (position >= start && position < start + first) items.push({ position, job });
      });
    }
    return { items, total };
  };
  return { window, pool };
}
