import { isTerminalJob } from '../jobStatus';
import type { Route } from '../paths';

/** Cache lifetimes by kind of answer, in ms; 0 disables that cache. */
export interface CacheTtls {
  readonly listMs: number;
  readonly engineMs: number;
  readonly jobMs: number;
  /** A job in FINISHED, ERROR or TIMEOUT never changes again. */
  readonly terminalJobMs: number;
}

/**
 * How long a successful answer on `route` may be reused. Job details in a terminal status get the
 * long TTL; a job still running, or with a status nobody documented, the short one (an unknown
 * status might be anything, so it is never assumed final).
 */
export function ttlFor(route: Route, body: unknown, ttls: CacheTtls): number {
  switch (route) {
    case 'listEngines':
    case 'listJobs':
      return ttls.listMs;
    case 'getEngine':
      return ttls.engineMs;
    case 'getJob':
      return isTerminalJob(body) ? ttls.terminalJobMs : ttls.jobMs;
  }
}

/** Whether answers on `route` can be cached at all, i.e. a lookup is worth making. */
export function isCacheable(route: Route, ttls: CacheTtls): boolean {
  switch (route) {
    case 'listEngines':
    case 'listJobs':
      return ttls.listMs > 0;
    case 'getEngine':
      return ttls.engineMs > 0;
    case 'getJob':
      return ttls.jobMs > 0 || ttls.terminalJobMs > 0;
  }
}

/** The shortest and longest TTL in effect (0 counts: a disabled cache promises nothing). */
export function ttlRange(ttls: CacheTtls): { min: number; max: number } {
  const all = [ttls.listMs, ttls.engineMs, ttls.jobMs, ttls.terminalJobMs];
  return { min: Math.min(...all), max: Math.max(...all) };
}
