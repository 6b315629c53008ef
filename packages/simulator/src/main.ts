import { parseArgs } from 'node:util';
import { DEMO_PROJECT_ID, DEMO_TOKEN, describeLive, SCENARIOS, startSimulator, type LiveOptions, type ScenarioName, type SimulatorOptions } from './index';

/** The simulator as its own program, for manual runs and out-of-process benchmarks. */

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be 0..65535, got "${text}"`);
  return port;
}

/** Added latency per API answer: `--latency <ms>` wins over `LATENCY_MS`; default 0. */
function parseLatency(text: string): number {
  const ms = Number(text);
  if (text.trim() === '' || !Number.isFinite(ms) || ms < 0) throw new Error(`latency must be a non-negative number of ms, got "${text}"`);
  return ms;
}

/**
 * Live mode: `--live` for the demo defaults, `--live-options '<json>'` (implies --live) for a
 * benchmark, e.g. a steady load as LiveOptions describes it:
 * '{"tickMs":1000,"ticksPerStep":1000,"heartbeat":true,"initialJobs":500,"maxRunningPerEngine":100,…}'.
 * The options themselves are checked by startSimulator, which names any bad one.
 */
function parseLive(on: boolean | undefined, optionsText: string | undefined): LiveOptions | undefined {
  if (optionsText === undefined) return on === true ? {} : undefined;
  try {
    return JSON.parse(optionsText) as LiveOptions;
  } catch {
    throw new Error(`--live-options must be a JSON object, got "${optionsText}"`);
  }
}

/** Everything the standalone simulator reads from its command line and environment, checked. */
function standaloneOptions(args: string[], env: Readonly<Record<string, string | undefined>>): SimulatorOptions {
  const { values } = parseArgs({
    args,
    options: { latency: { type: 'string' }, live: { type: 'boolean' }, 'live-options': { type: 'string' }, scenario: { type: 'string' } },
  });
  return {
    host: env.HOST ?? '127.0.0.1',
    port: parsePort(env.PORT ?? '4010'),
    latencyMs: parseLatency(values.latency ?? env.LATENCY_MS ?? '0'),
    live: parseLive(values.live, values['live-options']),
    // An unknown name is refused by startSimulator, with the names there are.
    scenario: values.scenario,
  };
}

async function main(): Promise<void> {
  const options = standaloneOptions(process.argv.slice(2), process.env);
  const sim = await startSimulator(options);
  const { latencyMs = 0, scenario } = options;
  console.log(`CSE simulator listening on ${sim.url}${latencyMs > 0 ? ` (+${latencyMs} ms per answer)` : ''}`);
  if (sim.live) console.log(`  live mode: ${describeLive(sim.live.options)}`);
  if (scenario !== undefined) console.log(`  scenario ${scenario}: ${SCENARIOS[scenario as ScenarioName].description}`);
  console.log(`  controls:     ${sim.url}/__sim/ (docs/simulator.md)`);
  console.log(`  X-Auth-Token: ${DEMO_TOKEN}`);
  console.log(`  project id:   ${DEMO_PROJECT_ID}`);
  console.log(`  try: curl -H 'X-Auth-Token: ${DEMO_TOKEN}' ${sim.url}/v2/${DEMO_PROJECT_ID}/enginemgr/engines`);

  const stop = (signal: NodeJS.Signals): void => {
    console.log(`${signal}: closing the simulator`);
    // Nothing else holds the event loop, so the process ends once the server has closed.
    void sim.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
