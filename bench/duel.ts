import { resolve } from 'node:path';
import { startChild, type Child } from './childProcess';
import { runLoad } from './loadGenerator';
import { cpuMs } from './procStats';
import { CACHE_MODES, type CacheMode } from './records';
import { askSource, gatewayRequest, SCENARIO_IDS, SCENARIOS, type Scenario, type ScenarioId } from './scenarios';
import { answerOf, gatewayEnv, walkCursors } from './servers';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';

/**
 * Two gateway builds side by side: `node dist/bench/bench/duel.js <a/dist/main.js> <b/dist/main.js>
 * [rounds=5] [requests=3000] [scenario=S5] [cache=off]`. Both run the scenario AT THE SAME TIME,
 * against one simulator, and each round reports the CPU milliseconds per operation of each and
 * their ratio.
 *
 * Why: this machine's speed drifts by ±10% from one run to the next, so two builds benchmarked one
 * after the other cannot tell a 5% change from noise. Run concurrently, both live through the same
 * drift; the ratio B/A is steady to about ±3% (A against itself: 0.98–1.04).
 */
export interface DuelRound {
  aMsPerOp: number;
  bMsPerOp: number;
  ratio: number;
  errors: number;
}

export interface DuelOptions {
  readonly scenario: Scenario;
  readonly cache: CacheMode;
  /** Node flags for both gateways (e.g. `--cpu-prof`). */
  readonly nodeOptions: readonly string[];
  /** Settings of gateway A only, e.g. `{ LOG_LEVEL: 'info' }` to price a change to the access log. */
  readonly envA: Readonly<Record<string, string>>;
  /** Settings of gateway B only, e.g. `{ LOG_LEVEL: 'info' }` to price the access log. */
  readonly envB: Readonly<Record<string, string>>;
  readonly log: (line: string) => void;
}

export async function duel(entryA: string, entryB: string, rounds: number, requests: number, options: Partial<DuelOptions> = {}): Promise<DuelRound[]> {
  const { scenario = SCENARIOS.S5, cache = 'off', nodeOptions = [], log = () => {} } = options;
  const { envA = {}, envB = {} } = options;
  const started: Child[] = [];
  try {
    const simulator = await startChild({ name: 'simulator', entry: resolve(__dirname, 'simulatorChild.js'), args: ['--latency', '0'], ready: /Simulator ready at (\S+)/, ipc: true });
    started.push(simulator);
    const gateway = async (name: string, entry: string, env: Readonly<Record<string, string>> = {}) => {
      const child = await startChild({
        name,
        entry,
        nodeOptions: [...nodeOptions],
        env: { ...gatewayEnv(simulator.url, cache), ...env },
        ready: /"url":"(http:\/\/[^"]+)","msg":"gateway listening"/,
      });
      started.push(child);
      return child;
    };
    const a = await gateway('gateway A', entryA, envA);
    const b = await gateway('gateway B', entryB, envB);
    // Each its own: cursors are the server's (the cold bound's are not the gateway's).
    const cursorsOf = new Map([[a, await walkCursors(a.url)], [b, await walkCursors(b.url)]]);
    // A 200 may carry errors the load generator does not read: each server answers one of its asks first.
    for (const [target, cursors] of cursorsOf) {
      const ask = gatewayRequest(askSource(scenario, cursors.length)(), cursors, DEMO_TOKEN, new URL(target.url).pathname);
      await answerOf(target.url, ask).catch((error: Error) => Promise.reject(new Error(`${target.name}: ${error.message}`)));
    }
    const load = (target: Child) => {
      const url = new URL(target.url);
      const cursors = cursorsOf.get(target)!;
      const asks = askSource(scenario, cursors.length);
      return runLoad({
        origin: url.origin,
        connections: scenario.connections,
        durationSec: 60,
        amount: requests,
        next: () => gatewayRequest(asks(), cursors, DEMO_TOKEN, url.pathname),
      });
    };
    await Promise.all([load(a), load(b)]); // warm-up: compiled code, pools, caches of the process
    const results: DuelRound[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      const [a0, b0] = [cpuMs(a.pid), cpuMs(b.pid)];
      const [ra, rb] = await Promise.all([load(a), load(b)]);
      const [a1, b1] = [cpuMs(a.pid), cpuMs(b.pid)];
      if (a0 === null || b0 === null || a1 === null || b1 === null) throw new Error('no /proc: CPU time cannot be read on this machine');
      const aMsPerOp = (a1 - a0) / ra.completed;
      const bMsPerOp = (b1 - b0) / rb.completed;
      const result = { aMsPerOp, bMsPerOp, ratio: bMsPerOp / aMsPerOp, errors: ra.errors + rb.errors };
      results.push(result);
      log(`round ${round}: A ${aMsPerOp.toFixed(3)} ms/op, B ${bMsPerOp.toFixed(3)} ms/op, B/A ${result.ratio.toFixed(3)}, errors ${result.errors}`);
    }
    return results;
  } finally {
    await Promise.all(started.map((child) => child.stop()));
  }
}

export function medianRatio(rounds: readonly DuelRound[]): number {
  const sorted = rounds.map((round) => round.ratio).sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

if (require.main === module) {
  const [entryA, entryB, rounds = '5', requests = '3000', scenarioId = 'S5', cache = 'off'] = process.argv.slice(2);
  const scenario = SCENARIOS[scenarioId as ScenarioId] as Scenario | undefined;
  if (entryA === undefined || entryB === undefined || scenario === undefined || !(CACHE_MODES as readonly string[]).includes(cache)) {
    process.stderr.write(`usage: node dist/bench/bench/duel.js <a/dist/main.js> <b/dist/main.js> [rounds=5] [requests=3000] [scenario=S5: ${SCENARIO_IDS.join('|')}] [cache=off: ${CACHE_MODES.join('|')}]\n`);
    process.exit(2);
  }
  // DUEL_CPU_PROF_DIR=dir: a V8 CPU profile of each gateway, to see where a difference comes from.
  const profileDir = process.env.DUEL_CPU_PROF_DIR;
  const nodeOptions = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`];
  // DUEL_B_ENV=NAME=value,…: settings of B only (LOG_LEVEL=info against A's warn prices the access log);
  // DUEL_A_ENV the same for A (both at info, two builds price a change to the access log).
  const envOf = (name: string) => {
    const pairs = (process.env[name] ?? '').split(',').filter((kv) => kv.includes('='));
    // At the first `=` only: a value may hold one (NODE_OPTIONS=--max-semi-space-size=32).
    return Object.fromEntries(pairs.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  };
  const [envA, envB] = [envOf('DUEL_A_ENV'), envOf('DUEL_B_ENV')];
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const withEnv = (gateway: string, env: object, name: string) =>
    Object.keys(env).length > 0 ? `, ${gateway} with ${process.env[name]}` : '';
  const settingsOf = `${withEnv('A', envA, 'DUEL_A_ENV')}${withEnv('B', envB, 'DUEL_B_ENV')}`;
  log(`${scenario.id} (${scenario.title}), caches ${cache}${settingsOf}`);
  const settings = { scenario, cache: cache as CacheMode, nodeOptions, envA, envB, log };
  duel(resolve(entryA), resolve(entryB), Number(rounds), Number(requests), settings)
    .then((results) => process.stdout.write(`median B/A CPU per operation: ${medianRatio(results).toFixed(3)}\n`))
    .catch((error: unknown) => {
      process.stderr.write(`duel failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    });
}
