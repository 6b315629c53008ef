import type { CseJob } from '../upstream/types';
import type { FaultBook } from './faults';
import { validateFault } from './faults';
import type { SimJob } from './model';
import { NoSuchEngineError } from './store';
import { emptyResponse, jsonResponse, type SimResponse } from './response';
import type { RecordedCall } from './types';

/**
 * The `/__sim/` surface: the in-process controls over HTTP, for callers in another process
 * (benchmarks, a manually started simulator). No auth: it only ever listens where the simulator
 * does, and it is not part of the simulated upstream.
 */

export const ADMIN_PREFIX = '/__sim/';

export interface AdminHooks {
  calls(): RecordedCall[];
  reset(): void;
  faults: FaultBook;
  addJobs(engineId: string, count: number, overrides?: Partial<CseJob>): SimJob[];
}

export function isAdminPath(pathname: string): boolean {
  return pathname === '/__sim' || pathname.startsWith(ADMIN_PREFIX);
}

export function handleAdmin(method: string, pathname: string, bodyText: string, hooks: AdminHooks): SimResponse {
  try {
    return dispatch(method, pathname.slice(ADMIN_PREFIX.length).split('/'), bodyText, hooks);
  } catch (error) {
    return jsonResponse(400, { error: error instanceof Error ? error.message : String(error) });
  }
}

function dispatch(method: string, segments: string[], bodyText: string, hooks: AdminHooks): SimResponse {
  const [resource, id, sub] = segments;
  if (segments.length > 3) return notFound(method, segments);
  const route = `${method} ${resource ?? ''}${segments.length > 1 ? '/:id' : ''}${sub !== undefined ? `/${sub}` : ''}`;
  switch (route) {
    case 'GET calls': {
      const calls = hooks.calls();
      return jsonResponse(200, { count: calls.length, calls });
    }
    case 'POST reset':
      hooks.reset();
      return emptyResponse(204);
    case 'POST faults':
      return jsonResponse(201, { id: hooks.faults.add(validateFault(parseBody(bodyText))) });
    case 'DELETE faults':
      hooks.faults.clear();
      return emptyResponse(204);
    case 'DELETE faults/:id':
      return hooks.faults.remove(Number(id)) ? emptyResponse(204) : jsonResponse(404, { error: `no fault ${id}` });
    case 'POST engines/:id/jobs': {
      const body = parseBody(bodyText);
      const count = body.count ?? 1;
      if (typeof count !== 'number') throw new TypeError('count must be a number');
      const overrides = body.overrides ?? {};
      if (typeof overrides !== 'object' || overrides === null) throw new TypeError('overrides must be an object');
      try {
        return jsonResponse(201, hooks.addJobs(decodeURIComponent(id ?? ''), count, overrides as Partial<CseJob>));
      } catch (error) {
        // An unknown engine is a missing resource; bad counts and overrides stay 400.
        if (error instanceof NoSuchEngineError) return jsonResponse(404, { error: error.message });
        throw error;
      }
    }
    default:
      return notFound(method, segments);
  }
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
