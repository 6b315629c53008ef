/** Cache lifetimes by kind of value, in ms; 0 turns that kind's caching off. */
export interface CacheTtls {
  readonly listMs: number;
  readonly engineMs: number;
  readonly jobMs: number;
  /** A job in FINISHED, ERROR or TIMEOUT never changes again. */
  readonly terminalJobMs: number;
}

/** Which TTL bounds a value; `shortest` for a source nobody declared: never assumed durable. */
export type Freshness = 'list' | 'engine' | 'job' | 'shortest';

/** The one table of freshness. `terminal`: the job's status never changes (an unknown one is not terminal). */
export function ttlOf(freshness: Freshness, ttls: CacheTtls, terminal = false): number {
  if (freshness === 'shortest') return ttlRange(ttls).min;
  if (freshness === 'job') return terminal ? ttls.terminalJobMs : ttls.jobMs;
  return freshness === 'list' ? ttls.listMs : ttls.engineMs;
}

export function isCacheable(freshness: Freshness, ttls: CacheTtls): boolean {
  return ttlOf(freshness, ttls, false) > 0 || ttlOf(freshness, ttls, true) > 0;
}

/** 0 counts: a disabled kind promises nothing. */
export function ttlRange(ttls: CacheTtls): { min: number; max: number } {
  const all = [ttls.listMs, ttls.engineMs, ttls.jobMs, ttls.terminalJobMs];
  return { min: Math.min(...all), max: Math.max(...all) };
}
