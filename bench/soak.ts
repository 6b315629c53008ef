import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad } from './loadGenerator';
import { loadTarget } from './measure';
import { memoryMb } from './procStats';
import { median } from './records';
import { SCENARIOS } from './scenarios';
import type { Servers } from './servers';

/** RSS of the gateway (caches at their defaults) under a long S5 run. */
export interface SoakReport {
  seconds: number;
  latencyMs: number;
  reqPerSec: number;
  p99Ms: number;
  errors: number;
  /** The first {@link WARMUP_SHARE} of the run, when caches fill and the JIT settles. */
  warmupSec: number;
  warmupPeakMb: number | null;
  /** Median RSS over the last {@link WARMUP_SHARE} of the run. */
  finalMedianMb: number | null;
  samples: Array<{ t: number; rssMb: number | null }>;
}

export const WARMUP_SHARE = 0.2;
const SAMPLE_EVERY_MS = 5000;
/** The simulator records every call; cleared regularly so its memory stays flat too. */
const RESET_CALLS_EVERY = 2;

export async function runSoak(servers: Servers, seconds: number, log: (line: string) => void): Promise<SoakReport> {
  const target = loadTarget(servers, 'gateway', 'default', SCENARIOS.S5);
  const samples: SoakReport['samples'] = [];
  const started = Date.now();
  let stopped = false;
  const sampler = (async () => {
    for (let k = 0; !stopped; k += 1) {
      const rssMb = memoryMb(target.child.pid, 'VmRSS');
      samples.push({ t: Math.round((Date.now() - started) / 1000), rssMb: rssMb === null ? null : Number(rssMb.toFixed(1)) });
      if (k % 12 === 0) log(`  soak ${samples.at(-1)?.t ?? 0}s: RSS ${rssMb?.toFixed(1) ?? '?'} MB`);
      if (k % RESET_CALLS_EVERY === 0) await servers.simulator.ask({ op: 'reset' });
      await sleep(SAMPLE_EVERY_MS);
    }
  })();
  const load = await runLoad({ origin: target.origin, connections: SCENARIOS.S5.connections, durationSec: seconds, next: target.next });
  stopped = true;
  await sampler;
  samples.push({ t: Math.round((Date.now() - started) / 1000), rssMb: memoryMb(target.child.pid, 'VmRSS') });
  return { ...summarizeSoak(samples, seconds), latencyMs: servers.latencyMs, reqPerSec: Number((load.completed / load.durationSec).toFixed(1)), p99Ms: load.p99Ms, errors: load.errors };
}

/** The warm-up peak and the final median of an RSS series (pure; see targets.ts for the check). */
export function summarizeSoak(
  samples: SoakReport['samples'],
  seconds: number,
): Pick<SoakReport, 'seconds' | 'warmupSec' | 'warmupPeakMb' | 'finalMedianMb' | 'samples'> {
  const warmupSec = Math.round(seconds * WARMUP_SHARE);
  const known = samples.filter((s): s is { t: number; rssMb: number } => s.rssMb !== null);
  const warmup = known.filter((s) => s.t <= warmupSec).map((s) => s.rssMb);
  const final = known.filter((s) => s.t >= seconds - warmupSec).map((s) => s.rssMb);
  return {
    seconds,
    warmupSec,
    warmupPeakMb: warmup.length === 0 ? null : Math.max(...warmup),
    finalMedianMb: final.length === 0 ? null : median(final),
    samples,
  };
}
