import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseBenchArgs, USAGE, UsageError, type BenchOptions } from './args';
import { runLoad } from './loadGenerator';
import { checkAnswers, loadTarget, measure, roundRuns, STORED_SCENARIOS } from './measure';
import { summarize, type BenchRecord, type Sample, type TargetName } from './records';
import { machine, renderMarkdown, replaceResults, type BenchReport } from './report';
import { SCENARIOS, type ScenarioId } from './scenarios';
import { startServers, type Servers } from './servers';
import { runSoak, type SoakReport } from './soak';
import { evaluateTargets } from './targets';

/** The package root: this file runs as dist/bench/bench/main.js. */
const ROOT = resolve(__dirname, '..', '..', '..');
/** The order of a cell's records in the report. */
const RECORD_ORDER: readonly TargetName[] = ['gateway', 'floor', 'ceiling', 'gateway-info'];

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * The matrix: for each latency a fresh simulator, gateways (one per cache mode), floor and, for
 * stored answers, the ceiling and a gateway at LOG_LEVEL=info; for each scenario, a warm-up of every
 * target, then rounds over every target of every cache mode, alternating their order (see roundRuns:
 * A, B, C, then C, B, A), so drift of the shared machine's load hits all alike and each target is
 * compared with its counterparts from the same rounds (the caches at their defaults with them off too).
 */
async function runMatrix(options: BenchOptions, gatewayEntry: string): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  const storedAnswers = options.caches.includes('default') && options.scenarios.some((id) => STORED_SCENARIOS.includes(id));
  for (const latencyMs of options.latencies) {
    log(`latency ${latencyMs} ms: starting the simulator, the gateway(s), the floor${storedAnswers ? ' and the ceiling' : ''}`);
    const servers = await startServers({
      latencyMs,
      caches: options.caches,
      gatewayEntry,
      gatewayNodeOptions: profileFlags(options),
      gatewayEnv: options.gatewayEnv,
      storedAnswers,
    });
    try {
      await warmUp(servers, options);
      for (const scenarioId of options.scenarios) {
        records.push(...(await runScenario(servers, options, scenarioId)));
      }
    } finally {
      await servers.stop();
    }
  }
  return records;
}

/** One scenario's warm-up and rounds; its records per cache mode, each mode's targets in the order of the report. */
async function runScenario(servers: Servers, options: BenchOptions, scenarioId: ScenarioId): Promise<BenchRecord[]> {
  const scenario = SCENARIOS[scenarioId];
  const runs = roundRuns(scenarioId, options.caches, servers.ceiling !== undefined).map((run) => ({
    ...run,
    load: loadTarget(servers, run.target, run.cache, scenario),
  }));
  // The last rate seen per run sizes its next one (see measure).
  const rate = new Map<string, number>();
  const callsAlone = new Map<string, number>();
  const samples = new Map<string, Sample[]>(runs.map((run) => [run.label, []]));
  for (const run of runs) {
    callsAlone.set(run.label, await checkAnswers(run.load, servers));
    if (options.warmupSec > 0) {
      rate.set(run.label, (await measure(run.load, servers, scenario.connections, options.warmupSec)).reqPerSec);
    }
  }
  for (let round = 0; round < options.rounds; round += 1) {
    // A, B, C, then C, B, A: a drift of the machine's speed across two rounds hits every target alike.
    for (const run of round % 2 === 0 ? runs : [...runs].reverse()) {
      const sample = await measure(run.load, servers, scenario.connections, options.durationSec, rate.get(run.label));
      rate.set(run.label, sample.reqPerSec);
      samples.get(run.label)?.push(sample);
      log(`    round ${round + 1} ${run.label.padEnd(20)} ${sample.reqPerSec.toFixed(0).padStart(6)} req/s  ${sample.cpuMsPerOp?.toFixed(3) ?? '?'} CPU ms/op`);
    }
  }
  const records: BenchRecord[] = [];
  for (const cache of options.caches) {
    for (const target of RECORD_ORDER) {
      // The floor's runs, once a round, are the floor of every cache mode.
      const run = runs.find((r) => r.target === target && (target === 'floor' || r.cache === cache));
      if (run === undefined) continue;
      const key = { scenario: scenarioId, target, cache, latencyMs: servers.latencyMs, callsAlone: callsAlone.get(run.label) ?? 0 };
      const record = summarize(key, samples.get(run.label) ?? []);
      records.push(record);
      log(
        `  ${scenarioId} ${cache.padEnd(7)} ${target.padEnd(12)} ${record.reqPerSec.toFixed(0).padStart(6)} req/s  ` +
          `p50 ${record.p50Ms.toFixed(1)} p99 ${record.p99Ms.toFixed(1)} ms  ` +
          `${record.upstreamCallsPerOp.toFixed(2)} calls/op (${record.callsAlone} alone)  ` +
          `${record.cpuMsPerOp?.toFixed(3) ?? '?'} CPU ms/op  ${record.rssMb?.toFixed(0) ?? '?'} MB` +
          `${record.errors > 0 ? `  ${record.errors} ERRORS` : ''}`,
      );
    }
  }
  return records;
}

/**
 * Fresh processes run cold (V8 has compiled nothing yet, pools are empty): every target first
 * serves a page and the dashboard for a while, so the first scenario is not the one that pays.
 */
async function warmUp(servers: Servers, options: BenchOptions): Promise<void> {
  const seconds = Math.max(0.5, options.warmupSec * 2);
  for (const cache of options.caches) {
    const names: TargetName[] = ['gateway', ...(cache === options.caches[0] ? (['floor'] as const) : [])];
    if (cache === 'default' && servers.ceiling !== undefined) names.push('ceiling', 'gateway-info');
    for (const target of names) {
      for (const scenario of target === 'ceiling' ? [SCENARIOS.S1] : [SCENARIOS.S1, SCENARIOS.S3]) {
        const load = loadTarget(servers, target, cache, scenario);
        await checkAnswers(load, servers);
        await runLoad({ origin: load.origin, connections: scenario.connections, durationSec: seconds, next: load.next });
      }
    }
  }
}

async function soak(options: BenchOptions, gatewayEntry: string): Promise<SoakReport> {
  const latencyMs = options.latencies[0] ?? 0;
  log(`soak: S5 against the gateway (caches default) for ${options.soakSec} s at ${latencyMs} ms`);
  const servers = await startServers({ latencyMs, caches: ['default'], gatewayEntry, gatewayNodeOptions: profileFlags(options), gatewayEnv: options.gatewayEnv });
  try {
    return await runSoak(servers, options.soakSec, log);
  } finally {
    await servers.stop();
  }
}

function profileFlags(options: BenchOptions): string[] | undefined {
  return options.cpuProfDir === undefined ? undefined : ['--cpu-prof', `--cpu-prof-dir=${resolve(options.cpuProfDir)}`];
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  log(`wrote ${file}`);
}

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message ? `${error.message}\n\n` : ''}${USAGE}\n`);
    process.exit(error.message ? 2 : 0);
  }
  const gatewayEntry = resolve(options.gatewayEntry ?? join(ROOT, 'dist', 'main.js'));
  const started = Date.now();
  const records = options.scenarios.length > 0 && options.rounds > 0 ? await runMatrix(options, gatewayEntry) : [];
  const soakReport = options.soakSec > 0 ? await soak(options, gatewayEntry) : undefined;

  const report: BenchReport = {
    date: new Date().toISOString(),
    mode: options.mode,
    machine: machine(),
    settings: { latencies: options.latencies, rounds: options.rounds, durationSec: options.durationSec, warmupSec: options.warmupSec },
    records,
    targets: evaluateTargets(records, soakReport),
    ...(soakReport === undefined ? {} : { soak: soakReport }),
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const resultsDir = join(ROOT, 'bench', 'results');
  write(options.out === undefined ? join(resultsDir, 'latest.json') : resolve(options.out), json);
  if (options.out === undefined && options.mode !== 'quick') write(join(resultsDir, `${report.date.slice(0, 19).replace(/:/g, '-')}.json`), json);
  const markdown = renderMarkdown(report);
  if (options.readme) {
    for (const path of [join(ROOT, 'bench', 'README.md'), join(ROOT, 'docs', 'benchmarks.md')]) {
      write(path, replaceResults(readFileSync(path, 'utf8'), markdown));
    }
  }
  process.stdout.write(`${markdown}\n`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
