import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { DEMO_PROJECT_ID, DEMO_TOKEN, type Simulator } from '@cse-jobs-gateway/simulator';
import type { CseJob } from '../../src/upstream/types';

/**
 * Reads an engine's whole job list straight from the simulator (not through the gateway), to
 * compute what the gateway should answer. Resets the simulator's call log afterwards so these
 * reads never count as the gateway's calls.
 */
export async function rawJobs(simulator: Simulator, engineId: string, query: Record<string, string> = {}): Promise<CseJob[]> {
  const jobs: CseJob[] = [];
  for (let page = 1; ; page += 1) {
    const search = new URLSearchParams({ ...query, offset: String(page), limit: '100' });
    const response = await request(`${simulator.url}/v2/${DEMO_PROJECT_ID}/enginemgr/engines/${engineId}/jobs?${search}`, {
      headers: { 'x-auth-token': DEMO_TOKEN, accept: 'application/json' },
    });
    // Ids stay exact: the seed's job ids are small integers, task ids are not read here.
    const body = (await response.body.json()) as { total: number; data: CseJob[] };
    jobs.push(...body.data);
    if (body.data.length < 100) break;
  }
  simulator.resetCalls();
  return jobs;
}

/** Job 2 of an engine, answered by a fake upstream only when the test calls `release`: an operation
 * asking it is still running until then. */
export function heldJob(engineId: string) {
  const path = `/v2/${DEMO_PROJECT_ID}/enginemgr/engines/${engineId}/jobs/2`;
  const text = JSON.stringify({ id: 2, engineId, status: 'Finished', tasks: [] });
  const held = {
    /** Set once the job is asked for. */
    release: undefined as (() => void) | undefined,
    /** The held answer for the job's path (query aside), `undefined` for any other. */
    answer(requested: string): Promise<string> | undefined {
      if (requested.split('?')[0] !== path) return undefined;
      return new Promise((resolve) => (held.release = () => resolve(text)));
    },
  };
  return held;
}

/** A stand-in for the upstream that answers what a test tells it, for bodies the simulator would never send. */
export interface FakeUpstream {
  readonly url: string;
  /** The path (with query) of every request received, in order. */
  readonly calls: string[];
  close(): Promise<void>;
}

const CHUNK_BYTES = 64 * 1024;

/** A JSON text answered with 200, or with another status; `chunked`: without a Content-Length; `stalls`: its
 * first chunk sent, the rest never. */
export type FakeReply = string | { readonly status: number; readonly text: string; readonly chunked?: boolean; readonly stalls?: boolean };

/** What a fake upstream answers a path (with query), `undefined` a 404; a promise holds it until settled. */
export type FakeAnswer = (path: string) => FakeReply | undefined | Promise<FakeReply | undefined>;

/**
 * A fake upstream on 127.0.0.1, port 0; every answer `answer`'s text (200 unless it says), written
 * a chunk at a time: it shares the test's event loop, where one write of megabytes would be a long
 * step of its own.
 */
export async function startFakeUpstream(answer: FakeAnswer): Promise<FakeUpstream> {
  const calls: string[] = [];
  // The last answer's bytes, kept: encoding megabytes is a long step of the test's own.
  let encoded: { text: string; body: Buffer } | undefined;
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    calls.push(path);
    void (async () => {
      const reply = await answer(path);
      if (reply === undefined) {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"error_code":"SVCSTG.00501101","error_msg":"not found"}');
        return;
      }
      const { status, text, chunked = false, stalls = false } = typeof reply === 'string' ? { status: 200, text: reply } : reply;
      if (encoded?.text !== text) encoded = { text, body: Buffer.from(text) };
      const { body } = encoded;
      response.writeHead(status, { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': body.length }) });
      for (let at = 0; at < body.length; at += CHUNK_BYTES) {
        if (stalls && at > 0) return;
        if (!response.write(body.subarray(at, at + CHUNK_BYTES))) await once(response, 'drain');
      }
      response.end();
    })().catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}

/**
 * The text of a job-list page of `jobs` jobs of `engineId` with `tasksPerJob` tasks each, as the
 * upstream's list shapes them (flat tasks), built as text: a hostile page of 30,000 tasks costs no
 * object graph in the test itself.
 */
export function jobPageText(engineId: string, jobs: number, tasksPerJob: number): string {
  const parts: string[] = [];
  for (let j = 1; j <= jobs; j++) {
    const tasks: string[] = [];
    for (let t = 0; t < tasksPerJob; t++) {
      tasks.push(`{"id":${j * 1_000_000 + t},"jobId":${j},"taskName":"step-${t}","taskOrder":${t},"status":"FINISHED","startTime":1700000000000,"endTime":1700000001000}`);
    }
    parts.push(`{"id":${j},"engineId":"${engineId}","type":"UpgradeEngine","status":"FINISHED","startTime":1700000000000,"endTime":1700000100000,"tasks":[${tasks.join(',')}]}`);
  }
  return `{"total":${jobs},"data":[${parts.join(',')}]}`;
}
