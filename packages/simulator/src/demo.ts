import { checkLiveOptions } from './liveMode';
import { DEMO_PROJECT_ID, DEMO_TOKEN } from './identities';
import { isScenarioName, SCENARIO_NAMES, SCENARIOS } from './scenarios';
import { startSimulator } from './server';
import { SimStore } from './store';
import type { LiveOptions, Simulator } from './types';

/**
 * The simulator `npm start` runs when CSE_ENDPOINT is unset: in live mode (LIVE_DEFAULTS) unless
 * SIMULATOR_LIVE=false, so a frontend or Apollo Sandbox shows jobs moving the moment it connects.
 * The gateway's loadConfig reads the SIMULATOR_* settings; what only the simulator knows (its
 * scenarios, its live options' fields) is checked here, before anything listens.
 */

/**
 * Where the demo's simulator listens unless SIMULATOR_PORT says otherwise: a fixed port, so a
 * frontend developer's `/__sim/` calls and bookmarks keep working across restarts. It is the
 * port `npm run simulator` defaults to as well; the two do not run side by side by default.
 */
export const DEMO_SIMULATOR_PORT = 4010;

/** One setting the simulator cannot use, in the parts a configuration error names. */
export class DemoSettingError extends Error {
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`${variable}=${JSON.stringify(value)}: expected ${expected}`);
    this.name = 'DemoSettingError';
  }
}

/** The SIMULATOR_* settings, as the gateway's configuration reads them. */
export interface DemoOptions {
  /** Unset: DEMO_SIMULATOR_PORT, which gives way to a free port when it is taken. */
  readonly port?: number | undefined;
  readonly scenario?: string | undefined;
  readonly live: boolean;
  readonly liveOptions?: object | undefined;
  /** Ports the gateway listens on: the default port gives way to a free one if it is among them. */
  readonly reserved?: readonly number[];
}

export interface DemoSimulator {
  readonly simulator: Simulator;
  /** The demo's identity: the gateway presets the token in its explorer and defaults to the project. */
  readonly token: string;
  readonly projectId: string;
  /** For a person at a terminal: the demo token, where the simulator and its controls are, its pace. */
  readonly banner: string[];
}

/**
 * Starts the demo's simulator on 127.0.0.1 (its `/__sim/` controls have no authentication). A port
 * the operator chose must be had; the default gives way to any free port when something else holds
 * it (a second `npm start`, `npm run simulator`), with a warning. Throws DemoSettingError for a
 * setting it cannot use, and an Error whose message is one line saying what to do when it cannot listen.
 */
export async function startDemoSimulator(options: DemoOptions, warn: (line: string) => void): Promise<DemoSimulator> {
  const { scenario } = options;
  const port = options.port ?? (options.reserved?.includes(DEMO_SIMULATOR_PORT) ? 0 : DEMO_SIMULATOR_PORT);
  if (scenario !== undefined && !isScenarioName(scenario)) {
    throw new DemoSettingError('SIMULATOR_SCENARIO', scenario, `one of ${SCENARIO_NAMES.join(', ')}`);
  }
  const live = options.live ? checkedLive(options.liveOptions ?? {}) : undefined;
  const start = (at: number) => startSimulator({ host: '127.0.0.1', port: at, live, scenario });
  let simulator: Simulator;
  try {
    simulator = await start(port).catch((error: NodeJS.ErrnoException) => {
      if (options.port !== undefined || error.code !== 'EADDRINUSE') throw error;
      warn(`the simulator's default port 127.0.0.1:${port} is in use: listening on a free port instead (set SIMULATOR_PORT to choose one)`);
      return start(0);
    });
  } catch (error) {
    throw new Error(listenFailure(error, port));
  }
  const { url } = simulator;
  const banner = [
    'Send the demo token with every request:',
    `X-Auth-Token: ${DEMO_TOKEN}`,
    simulator.live === undefined
      ? 'Live mode is off (SIMULATOR_LIVE=false): the simulated jobs stay as seeded.'
      : `Live mode is on: ${describeLive(simulator.live.options)}. SIMULATOR_LIVE=false turns it off.`,
    `Simulator: ${url} (controls under ${url}/__sim/, see docs/simulator.md; SIMULATOR_PORT moves it).`,
    scenario === undefined
      ? 'No fault scenario (SIMULATOR_SCENARIO=<name> starts with one).'
      : `Fault scenario ${scenario}: ${SCENARIOS[scenario].description}. curl -X DELETE ${url}/__sim/faults clears it.`,
  ];
  return { simulator, token: DEMO_TOKEN, projectId: DEMO_PROJECT_ID, banner };
}

/** The live options checked in full (a fresh store is the seed, whose engines engineIds names). */
function checkedLive(options: object): LiveOptions {
  try {
    checkLiveOptions(options, new SimStore());
  } catch (error) {
    throw new DemoSettingError('SIMULATOR_LIVE_OPTIONS', JSON.stringify(options), `valid live options (${oneLine(error)})`);
  }
  return options as LiveOptions;
}

function listenFailure(error: unknown, port: number): string {
  const at = `Cannot start the simulator on 127.0.0.1:${port}`;
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE':
      return `${at}: the address is already in use (EADDRINUSE). Set SIMULATOR_PORT to a free port (0: any), or stop the process that holds it.`;
    case 'EACCES':
      return `${at}: permission denied (EACCES). Set SIMULATOR_PORT to 1024 or above.`;
    default:
      return `The simulator could not start: ${oneLine(error)}`;
  }
}

/**
 * What live mode does with these options, in one line for a start-up banner, e.g. "running jobs
 * take a step every 12 s (…: 1 min for a job of 3 tasks); a new job every 24 s, …".
 */
export function describeLive(options: Required<LiveOptions>): string {
  const step = options.tickMs * options.ticksPerStep;
  const parts = [
    `running jobs take a step every ${duration(step)} (PreInit → Init → Executing → Finished, task by task: ` +
      `${duration(step * (options.taskCount + 2))} for a job of ${options.taskCount} tasks)`,
  ];
  if (options.heartbeat && options.ticksPerStep > 1) parts.push(`in between, the current task's updateTime moves every ${duration(options.tickMs)}`);
  parts.push(
    options.newJobEveryTicks > 0
      ? `a new job every ${duration(options.tickMs * options.newJobEveryTicks)}, at most ${options.maxRunningPerEngine} running per engine`
      : 'no new jobs',
  );
  return parts.join('; ');
}

/** A refusal goes on one line of stderr, even when it quotes a value with a line break. */
function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
}

/** Milliseconds as a person reads them: 400 ms, 24 s, 1 min, 83.3 min, 2.5 h. */
function duration(ms: number): string {
  const round = (value: number): string => String(Math.round(value * 10) / 10);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${round(ms / 60_000)} min`;
  return `${round(ms / 3_600_000)} h`;
}
