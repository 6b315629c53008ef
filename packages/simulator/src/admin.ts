import type { CseIntegerId, CseJob } from './wire';
import type { FaultBook } from './faults';
import { validateFault } from './faults';
import type { SimJob } from './model';
import { JobStateError } from './progress';
import { SCENARIOS, scenarioNamed } from './scenarios';
import { NoSuchEngineError, NoSuchJobError } from './store';
import { emptyResponse, jsonResponse, type SimResponse } from './response';
import type { AdvanceJobOptions, JobPatch, LiveOptions, LiveStatus, RecordedCall, StartJobOptions, TickLiveOptions } from './types';

/**
 * The `/__sim/` surface: the in-process controls over HTTP, for callers in another process
 * (benchmarks, a manually started simulator, a frontend developer under `npm start`; documented
 * for them in docs/simulator.md). No auth: it only ever listens where the simulator
 * does, and it is not part of the simulated upstream.
 *
 * Answers: 404 for an unknown route, engine or job; 409 for a job that cannot go where it was
 * asked (JobStateError); 400 for any other refusal (bad JSON, bad options). Jobs are answered in
 * the flat list shape, as addJobs' are.
 */

export const ADMIN_PREFIX = '/__sim/';

export interface AdminHooks {
  calls(): RecordedCall[];
  reset(): void;
  faults: FaultBook;
  addJobs(engineId: string, count: number, overrides?: Partial<CseJob>): SimJob[];
  startJob(engineId: string, options?: StartJobOptions): SimJob;
  advanceJob(engineId: string, jobId: CseIntegerId, options?: AdvanceJobOptions): SimJob;
  updateJob(engineId: string, jobId: CseIntegerId, patch: JobPatch): SimJob;
  liveStatus(): LiveStatus | undefined;
  startLive(options?: LiveOptions): LiveStatus;
  tickLive(options?: TickLiveOptions): LiveStatus;
  stopLive(): void;
}

export function isAdminPath(pathname: string): boolean {
  return pathname === '/__sim' || pathname.startsWith(ADMIN_PREFIX);
}

export function handleAdmin(method: string, pathname: string, bodyText: string, hooks: AdminHooks): SimResponse {
  try {
    return dispatch(method, pathname.slice(ADMIN_PREFIX.length).split('/'), bodyText, hooks);
  } catch (error) {
    // An unknown engine or job is a missing resource; bad counts, options and bodies stay 400.
    if (error instanceof NoSuchEngineError || error instanceof NoSuchJobError) return jsonResponse(404, { error: error.message });
    if (error instanceof JobStateError) return jsonResponse(409, { error: error.message });
    return jsonResponse(400, { error: error instanceof Error ? error.message : String(error) });
  }
}

type Params = Readonly<Record<string, string>>;

interface AdminRoute {
  method: string;
  /** Literal segments, and `:name` for one decoded segment. */
  pattern: readonly string[];
  answer(params: Params, bodyText: string, hooks: AdminHooks): SimResponse;
}

const route = (method: string, path: string, answer: AdminRoute['answer']): AdminRoute => ({ method, pattern: path.split('/'), answer });

/** First match wins: `jobs/start` comes before `jobs/:jobId` would. */
const ROUTES: readonly AdminRoute[] = [
  route('GET', 'calls', (_params, _body, hooks) => {
    const calls = hooks.calls();
    return jsonResponse(200, { count: calls.length, calls });
  }),
  route('POST', 'reset', (_params, _body, hooks) => {
    hooks.reset();
    return emptyResponse(204);
  }),
  route('POST', 'faults', (_params, body, hooks) => jsonResponse(201, { id: hooks.faults.add(validateFault(parseBody(body))) })),
  route('DELETE', 'faults', (_params, _body, hooks) => {
    hooks.faults.clear();
    return emptyResponse(204);
  }),
  route('DELETE', 'faults/:id', ({ id }, _body, hooks) =>
    hooks.faults.remove(Number(id)) ? emptyResponse(204) : jsonResponse(404, { error: `no fault ${id}` }),
  ),
  route('GET', 'scenarios', () => jsonResponse(200, SCENARIOS)),
  // A scenario replaces the faults there are, so switching scenarios never stacks them.
  route('POST', 'scenarios/:name', ({ name = '' }, _body, hooks) => {
    const scenario = scenarioNamed(name);
    hooks.faults.clear();
    return jsonResponse(201, { ids: scenario.faults.map((fault) => hooks.faults.add(fault)) });
  }),
  route('POST', 'engines/:engineId/jobs', ({ engineId = '' }, bodyText, hooks) => {
    const body = parseBody(bodyText);
    const count = body.count ?? 1;
    if (typeof count !== 'number') throw new TypeError('count must be a number');
    const overrides = body.overrides ?? {};
    if (typeof overrides !== 'object' || overrides === null) throw new TypeError('overrides must be an object');
    return jsonResponse(201, hooks.addJobs(engineId, count, overrides as Partial<CseJob>));
  }),
  route('POST', 'engines/:engineId/jobs/start', ({ engineId = '' }, body, hooks) =>
    jsonResponse(201, hooks.startJob(engineId, parseBody(body) as StartJobOptions)),
  ),
  route('POST', 'engines/:engineId/jobs/:jobId/advance', ({ engineId = '', jobId = '' }, body, hooks) =>
    jsonResponse(200, hooks.advanceJob(engineId, jobId, parseBody(body) as AdvanceJobOptions)),
  ),
  route('PATCH', 'engines/:engineId/jobs/:jobId', ({ engineId = '', jobId = '' }, body, hooks) =>
    jsonResponse(200, hooks.updateJob(engineId, jobId, parseBody(body) as JobPatch)),
  ),
  route('GET', 'live', (_params, _body, hooks) => jsonResponse(200, liveView(hooks.liveStatus()))),
  route('PUT', 'live', (_params, body, hooks) => jsonResponse(200, liveView(hooks.startLive(parseBody(body) as LiveOptions)))),
  route('POST', 'live/tick', (_params, body, hooks) => jsonResponse(200, liveView(hooks.tickLive(parseBody(body) as TickLiveOptions)))),
  route('DELETE', 'live', (_params, _body, hooks) => {
    hooks.stopLive();
    return emptyResponse(204);
  }),
];

function dispatch(method: string, segments: string[], bodyText: string, hooks: AdminHooks): SimResponse {
  for (const candidate of ROUTES) {
    const params = matchRoute(candidate, method, segments);
    if (params) return candidate.answer(params, bodyText, hooks);
  }
  return notFound(method, segments);
}

function matchRoute(candidate: AdminRoute, method: string, segments: readonly string[]): Params | undefined {
  if (candidate.method !== method || candidate.pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const want = candidate.pattern[i] ?? '';
    const got = segments[i] ?? '';
    if (want.startsWith(':')) params[want.slice(1)] = decodeURIComponent(got);
    else if (want !== got) return undefined;
  }
  return params;
}

/** `on` tells the two states apart without the caller probing for fields. */
function liveView(status: LiveStatus | undefined): unknown {
  return status === undefined ? { on: false } : { on: true, ...status };
}

function notFound(method: string, segments: string[]): SimResponse {
  return jsonResponse(404, { error: `no admin route ${method} ${ADMIN_PREFIX}${segments.join('/')}` });
}

function parseBody(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('The body must be a JSON object');
  return value as Record<string, unknown>;
}
