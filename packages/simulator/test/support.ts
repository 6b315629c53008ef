import { parse } from 'lossless-json';
import { DEMO_PROJECT_ID, DEMO_TOKEN, type Simulator } from '../src';

/** Plain HTTP against a running simulator: what a gateway sees, nothing more. */

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json<T = any>(): T;
}

export interface GetOptions {
  /** null sends no token at all. */
  token?: string | null;
  headers?: Record<string, string>;
  method?: string;
  body?: string;
}

export async function call(sim: Simulator, path: string, options: GetOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const token = options.token === undefined ? DEMO_TOKEN : options.token;
  if (token !== null) headers['x-auth-token'] = token;
  const response = await fetch(sim.url + path, { method: options.method ?? 'GET', headers, body: options.body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

/** Integers beyond 2^53 become bigint, so nothing is lost when comparing bodies. */
export function parseExact(text: string): any {
  return parse(text, null, (value: string) => {
    const asNumber = Number(value);
    return /^-?\d+$/.test(value) && !Number.isSafeInteger(asNumber) ? BigInt(value) : asNumber;
  });
}

export const api = {
  engines: (projectId = DEMO_PROJECT_ID) => `/v2/${projectId}/enginemgr/engines`,
  engine: (engineId: string, projectId = DEMO_PROJECT_ID) => `/v2/${projectId}/enginemgr/engines/${engineId}`,
  jobs: (engineId: string, projectId = DEMO_PROJECT_ID) => `/v2/${projectId}/enginemgr/engines/${engineId}/jobs`,
  job: (engineId: string, jobId: string | number, projectId = DEMO_PROJECT_ID) =>
    `/v2/${projectId}/enginemgr/engines/${engineId}/jobs/${jobId}`,
};

export function withQuery(path: string, query: Record<string, string | number>): string {
  const search = new URLSearchParams(Object.entries(query).map(([key, value]): [string, string] => [key, String(value)]));
  return `${path}?${search.toString()}`;
}

/** Every job of an engine, via pages of 100, in list order. */
export async function allJobs(sim: Simulator, engineId: string, projectId = DEMO_PROJECT_ID, token?: string): Promise<any[]> {
  const jobs: any[] = [];
  for (let page = 1; ; page++) {
    const res = await call(sim, withQuery(api.jobs(engineId, projectId), { offset: page, limit: 100 }), { token });
    expect(res.status).toBe(200);
    const body = parseExact(res.text);
    jobs.push(...body.data);
    if (jobs.length >= body.total || body.data.length === 0) return jobs;
  }
}

export function expectCseError(res: HttpResult, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json');
  const body = res.json();
  expect(body).toEqual({ error_code: code, error_msg: expect.any(String), detail: expect.any(String) });
}

export interface AdminResult {
  status: number;
  text: string;
  json<T = any>(): T;
}

/** A `/__sim/` control over HTTP; a string body is sent as is (to send broken JSON). */
export async function admin(sim: Simulator, method: string, path: string, body?: unknown): Promise<AdminResult> {
  const res = await fetch(`${sim.url}/__sim/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}
