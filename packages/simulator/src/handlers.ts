import { badParameter, CseCode, cseError } from './errors';
import type { SimEngine, SimJob } from './model';
import { toPhases } from './phases';
import { inRange, pageOf, parsePage, parseTimeRange, type Query } from './query';
import { jsonResponse, SimFailure, type SimResponse } from './response';
import type { RouteMatch } from './routes';
import { SEED_ENGINE_IDS } from './seed';
import type { SimStore } from './store';

/** The four endpoints, once the caller is authenticated and allowed into the project. */

export interface ApiContext {
  store: SimStore;
  maxLimit: number;
}

export type ProjectRoute = RouteMatch & { projectId: string };

export function handleApi(match: ProjectRoute, query: Query, ctx: ApiContext): SimResponse {
  try {
    switch (match.route) {
      case 'listEngines':
        return listEngines(match.projectId, query, ctx);
      case 'getEngine':
        return jsonResponse(200, engineView(requireEngine(match, ctx), ctx));
      case 'listJobs':
        return listJobs(requireEngine(match, ctx), query, ctx);
      case 'getJob':
        return getJob(requireEngine(match, ctx), match.jobId ?? '', ctx);
      case 'unknown':
        throw new Error('handleApi called for an unknown route');
    }
  } catch (error) {
    if (error instanceof SimFailure) return error.response;
    throw error;
  }
}

/** Query `type` values (case-insensitive) and the engine types each one selects. */
const TYPE_FILTERS: Readonly<Record<string, readonly string[] | undefined>> = {
  all: undefined,
  cse: ['CSE', 'CSE_SHARE'],
  nacos: ['NACOS'],
  microgateway: ['MICROGATEWAY'],
};

function listEngines(projectId: string, query: Query, ctx: ApiContext): SimResponse {
  const page = parsePage(query, ctx.maxLimit);
  const typeText = query.type ?? '';
  const filterKey = typeText === '' ? 'all' : typeText.toLowerCase();
  if (!Object.hasOwn(TYPE_FILTERS, filterKey)) throw badParameter('type', typeText, 'one of ALL, CSE, Nacos, MicroGateway');
  const types = TYPE_FILTERS[filterKey];
  const engines = ctx.store.listEngines(projectId, (engine) => !types || types.includes((engine.record.type ?? '').toUpperCase()));
  const { total, data } = pageOf(engines, page);
  return jsonResponse(200, { total, data: data.map((engine) => engineView(engine, ctx)) });
}

function listJobs(engine: SimEngine, query: Query, ctx: ApiContext): SimResponse {
  const page = parsePage(query, ctx.maxLimit);
  const range = parseTimeRange(query);
  const jobs = ctx.store.jobs(engine.record.id).filter((job) => inRange(job.startTime, range));
  return jsonResponse(200, pageOf(jobs, page));
}

function getJob(engine: SimEngine, jobId: string, ctx: ApiContext): SimResponse {
  if (!/^\d+$/.test(jobId)) {
    throw new SimFailure(cseError(CseCode.MALFORMED_JOB_ID, 'Invalid job id', `job id "${jobId}" is not a number`));
  }
  // Read as an integer, so leading zeros and ids beyond 2^53 behave as the upstream's Long does.
  const job = ctx.store.findJob(engine.record.id, jobId);
  if (!job) {
    throw new SimFailure(cseError(CseCode.JOB_NOT_FOUND, 'Job not found', `job ${jobId} does not exist in engine ${engine.record.id}`));
  }
  return jsonResponse(200, jobDetails(engine, job));
}

/** Only the drift engine answers in the SDK's phase shape, so both shapes are exercised. */
function jobDetails(engine: SimEngine, job: SimJob): unknown {
  return engine.record.id === SEED_ENGINE_IDS.drift ? { ...job, tasks: toPhases(job.tasks) } : job;
}

function requireEngine(match: ProjectRoute, ctx: ApiContext): SimEngine {
  const engineId = match.engineId ?? '';
  const found = ctx.store.findEngine(match.projectId, engineId);
  switch (found.kind) {
    case 'live':
      return found.engine;
    case 'gone':
      throw new SimFailure(cseError(CseCode.ENGINE_GONE, 'The engine has been deleted', `engine ${engineId} is gone`));
    case 'missing':
      throw new SimFailure(cseError(CseCode.ENGINE_NOT_FOUND, 'Engine not found', `engine ${engineId} does not exist`));
  }
}

function engineView(engine: SimEngine, ctx: ApiContext): unknown {
  const latestJobId = ctx.store.latestJobId(engine.record.id);
  return latestJobId === undefined ? { ...engine.record } : { ...engine.record, latestJobId };
}
