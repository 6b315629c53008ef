import type { RouteName } from './types';

export interface RouteMatch {
  route: RouteName;
  projectId?: string;
  engineId?: string;
  jobId?: string;
}

const UNKNOWN: RouteMatch = { route: 'unknown' };

/**
 * Maps a request to one of the four endpoints. Matching is exact (no trailing slash, no empty
 * segment) so that a gateway building a wrong path sees the upstream's 404, not a lucky answer.
 */
export function matchRoute(method: string, pathname: string): RouteMatch {
  if (method !== 'GET') return UNKNOWN;
  const raw = pathname.split('/');
  if (raw[0] !== '' || raw[1] !== 'v2' || raw[3] !== 'enginemgr' || raw[4] !== 'engines') return UNKNOWN;
  const segments = raw.map(decodeSegment);
  if (segments.slice(1).some((segment) => segment === undefined || segment === '')) return UNKNOWN;
  const [, , projectId, , , engineId, jobs, jobId] = segments as string[];
  if (projectId === undefined || projectId.length > 64) return UNKNOWN;
  switch (segments.length) {
    case 5:
      return { route: 'listEngines', projectId };
    case 6:
      return { route: 'getEngine', projectId, engineId };
    case 7:
      return jobs === 'jobs' ? { route: 'listJobs', projectId, engineId } : UNKNOWN;
    case 8:
      return jobs === 'jobs' ? { route: 'getJob', projectId, engineId, jobId } : UNKNOWN;
    default:
      return UNKNOWN;
  }
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
