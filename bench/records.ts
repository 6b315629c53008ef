import { CACHES_OFF } from '../test/support/cachesOff';
import type { ScenarioId } from './scenarios';

/**
 * The measured servers: the gateway (LOG_LEVEL=warn), the floor, and for stored answers (S1, S4 at
 * the defaults) the ceiling and the same gateway at LOG_LEVEL=info.
 */
export type TargetName = 'gateway' | 'floor' | 'ceiling' | 'gateway-info';
export type CacheMode = 'default' | 'off';
export const CACHE_MODES: readonly CacheMode[] = ['default', 'off'];

/**
 * The gateway's environment for a cache mode: `off` sets every cache TTL to 0 (the resilience
 * work's "no caching"); `default` leaves them unset. The floor has no cache: it runs once a round,
 * between the gateways of every mode, and each mode has a record of those runs.
 */
export function cacheEnv(mode: CacheMode): Record<string, string> {
  return mode === 'default' ? {} : { ...CACHES_OFF };
}

/** One measured run (one round) of one target. */
export interface Sample {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  upstreamCallsPerOp: number;
  cpuMsPerOp: number | null;
  rssMb: number | null;
  /** Completed requests. */
  requests: number;
  /** Non-2xx answers, connection errors and timeouts. */
  errors: number;
}

/** One line of bench/results/*.json: the medians over the rounds of one scenario × target × cache mode. */
export interface BenchRecord {
  scenario: ScenarioId;
  target: TargetName;
  cache: CacheMode;
  latencyMs: number;
  reqPerSec: number;
  /**
   * Each round's req/s, in round order: a ratio between two targets is the median of its rounds' ratios,
   * each taken from runs next to each other in time (see targets.ts).
   */
  reqPerSecByRound: number[];
  p50Ms: number;
  p99Ms: number;
  upstreamCallsPerOp: number;
  /** Upstream calls of one operation sent alone before the runs (caches off: its exact cost). */
  callsAlone: number;
  cpuMsPerOp: number | null;
  /** Peak RSS (VmHWM) of the target's process at the end of its runs. */
  rssMb: number | null;
  rounds: number;
  /** Totals over the rounds. */
  requests: number;
  errors: number;
}

/** The middle value; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function medianOrNull(values: ReadonlyArray<number | null>): number | null {
  const known = values.filter((value): value is number => value !== null);
  return known.length === 0 ? null : median(known);
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));
const roundOrNull = (value: number | null, digits: number): number | null => (value === null ? null : round(value, digits));

/**
 * The record of several rounds: medians (robust to one round disturbed by the shared machine),
 * except RSS, which is a peak and takes the largest.
 */
export function summarize(
  key: Pick<BenchRecord, 'scenario' | 'target' | 'cache' | 'latencyMs' | 'callsAlone'>,
  samples: readonly Sample[],
): BenchRecord {
  if (samples.length === 0) throw new RangeError(`no samples for ${key.scenario}/${key.target}/${key.cache}`);
  const rss = samples.map((s) => s.rssMb).filter((value): value is number => value !== null);
  return {
    ...key,
    reqPerSec: round(median(samples.map((s) => s.reqPerSec)), 1),
    reqPerSecByRound: samples.map((s) => round(s.reqPerSec, 1)),
    p50Ms: round(median(samples.map((s) => s.p50Ms)), 2),
    p99Ms: round(median(samples.map((s) => s.p99Ms)), 2),
    upstreamCallsPerOp: round(median(samples.map((s) => s.upstreamCallsPerOp)), 3),
    callsAlone: key.callsAlone,
    cpuMsPerOp: roundOrNull(medianOrNull(samples.map((s) => s.cpuMsPerOp)), 3),
    rssMb: rss.length === 0 ? null : round(Math.max(...rss), 1),
    rounds: samples.length,
    requests: samples.reduce((sum, s) => sum + s.requests, 0),
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
  };
}
