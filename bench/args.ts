import { parseArgs } from 'node:util';
import { CACHE_MODES, type CacheMode } from './records';
import { SCENARIO_IDS, type ScenarioId } from './scenarios';

/** What `npm run bench` / `bench:quick` run; every field can be overridden on the command line. */
export interface BenchOptions {
  mode: 'full' | 'quick' | 'soak';
  latencies: number[];
  scenarios: ScenarioId[];
  caches: CacheMode[];
  /** Measured runs per target (gateway and floor alternate: A B A B …). */
  rounds: number;
  durationSec: number;
  /** Unmeasured load before a scenario's first round, per target. */
  warmupSec: number;
  /** 0: no soak. */
  soakSec: number;
  /** The results file; undefined: bench/results/latest.json (and a dated copy for full runs). */
  out: string | undefined;
  /** Rewrite the table in bench/README.md and docs/benchmarks.md (full runs by default). */
  readme: boolean;
  /** The compiled gateway; undefined: dist/main.js. */
  gatewayEntry: string | undefined;
  /** Write a V8 CPU profile of each gateway into this directory (node --cpu-prof). */
  cpuProfDir: string | undefined;
  /** Extra environment for the gateway (e.g. GRAPHQL_EXECUTOR=graphql-js to compare executors). */
  gatewayEnv: Readonly<Record<string, string>>;
}

export class UsageError extends Error {}

export const USAGE = `npm run bench [-- options]        full run: every scenario, 3 rounds, then a 5-minute S5 soak
npm run bench:quick [-- options]  every scenario briefly (about 100 s), no soak

  --quick                 the bench:quick settings
  --soak                  only the S5 soak (default 300 s)
  --latency 0,20          added upstream latency (ms) per matrix
  --scenarios S1,S3       a subset of S1..S6
  --cache default,off     gateway cache modes
  --rounds N  --duration S  --warmup S  --soak-seconds S (0: no soak)
  --out FILE              results file (default bench/results/latest.json)
  --readme / --no-readme  rewrite the table in bench/README.md and docs/benchmarks.md (default: full runs)
  --gateway FILE          compiled gateway entry (default dist/main.js)
  --cpu-prof DIR          profile each gateway process (node --cpu-prof) into DIR
  --gateway-env K=V,K=V   extra gateway settings, e.g. GRAPHQL_EXECUTOR=graphql-js`;

const PRESETS: Record<BenchOptions['mode'], Omit<BenchOptions, 'mode' | 'out' | 'gatewayEntry' | 'cpuProfDir' | 'gatewayEnv'>> = {
  full: { latencies: [0, 20], scenarios: [...SCENARIO_IDS], caches: [...CACHE_MODES], rounds: 3, durationSec: 5, warmupSec: 2, soakSec: 300, readme: true },
  // 2 latencies × 5 scenarios × 2 cache modes × 2 targets × (1 + 0.25) s = 50 s of load.
  quick: { latencies: [0, 20], scenarios: [...SCENARIO_IDS], caches: [...CACHE_MODES], rounds: 1, durationSec: 1, warmupSec: 0.25, soakSec: 0, readme: false },
  soak: { latencies: [0], scenarios: [], caches: ['default'], rounds: 0, durationSec: 0, warmupSec: 0, soakSec: 300, readme: false },
};

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowNegative: true,
      options: {
        quick: { type: 'boolean' },
        soak: { type: 'boolean' },
        latency: { type: 'string' },
        scenarios: { type: 'string' },
        cache: { type: 'string' },
        rounds: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        'soak-seconds': { type: 'string' },
        out: { type: 'string' },
        readme: { type: 'boolean' },
        gateway: { type: 'string' },
        'cpu-prof': { type: 'string' },
        'gateway-env': { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help === true) throw new UsageError('');
  if (values.quick === true && values.soak === true) throw new UsageError('--quick and --soak exclude each other');
  const mode: BenchOptions['mode'] = values.quick === true ? 'quick' : values.soak === true ? 'soak' : 'full';
  const preset = PRESETS[mode];
  return {
    mode,
    latencies: values.latency === undefined ? preset.latencies : list(values.latency, '--latency', (item) => number(item, '--latency', 0, 10_000)),
    scenarios: values.scenarios === undefined ? preset.scenarios : list(values.scenarios, '--scenarios', (item) => member(item.toUpperCase(), SCENARIO_IDS, '--scenarios')),
    caches: values.cache === undefined ? preset.caches : list(values.cache, '--cache', (item) => member(item, CACHE_MODES, '--cache')),
    rounds: values.rounds === undefined ? preset.rounds : integer(values.rounds, '--rounds', 1, 100),
    durationSec: values.duration === undefined ? preset.durationSec : number(values.duration, '--duration', 0.2, 3600),
    warmupSec: values.warmup === undefined ? preset.warmupSec : number(values.warmup, '--warmup', 0, 3600),
    soakSec: values['soak-seconds'] === undefined ? preset.soakSec : number(values['soak-seconds'], '--soak-seconds', 0, 86_400),
    out: values.out,
    readme: values.readme ?? preset.readme,
    gatewayEntry: values.gateway,
    cpuProfDir: values['cpu-prof'],
    gatewayEnv: values['gateway-env'] === undefined ? {} : Object.fromEntries(list(values['gateway-env'], '--gateway-env', setting)),
  };
}

/** `NAME=value`: a gateway setting, as in docs/configuration.md. */
function setting(text: string): [string, string] {
  const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(text);
  if (match === null) throw new UsageError(`--gateway-env: "${text}" is not NAME=value`);
  return [match[1]!, match[2]!];
}

function list<T>(text: string, flag: string, item: (text: string) => T): T[] {
  const items = text.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (items.length === 0) throw new UsageError(`${flag} needs at least one value`);
  return [...new Set(items.map(item))];
}

function number(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

function integer(text: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got "${text}"`);
  return number(text, flag, min, max);
}

function member<T extends string>(text: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(text)) throw new UsageError(`${flag}: "${text}" is not one of ${allowed.join(', ')}`);
  return text as T;
}
