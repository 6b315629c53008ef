import { checkLiveOptions } from './liveMode';
import { isScenarioName, SCENARIO_NAMES, type ScenarioName } from './scenarios';
import { SimStore } from './store';
import type { LiveOptions } from './types';

/**
 * Live mode for the demo (`npm start` without CSE_ENDPOINT): on with LIVE_DEFAULTS, so a
 * frontend or Apollo Sandbox shows jobs moving the moment it connects. The environment can
 * override the options or turn it off; a value that cannot be used stops the start, as any
 * other bad configuration does.
 */

export const LIVE_ENV = 'SIMULATOR_LIVE';
export const LIVE_OPTIONS_ENV = 'SIMULATOR_LIVE_OPTIONS';
export const PORT_ENV = 'SIMULATOR_PORT';
export const SCENARIO_ENV = 'SIMULATOR_SCENARIO';

/**
 * Where the demo's simulator listens unless SIMULATOR_PORT says otherwise: a fixed port, so a
 * frontend developer's `/__sim/` calls and bookmarks keep working across restarts. It is the
 * port `npm run simulator` defaults to as well; the two do not run side by side by default.
 */
export const DEMO_SIMULATOR_PORT = 4010;

/** One variable with a value the demo cannot use, in the parts a configuration error names. */
export class LiveEnvError extends Error {
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`${variable}=${JSON.stringify(value)}: expected ${expected}`);
    this.name = 'LiveEnvError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The live options for the demo's simulator: `{}` (the defaults) unless SIMULATOR_LIVE is
 * `false` (undefined: live mode off) or SIMULATOR_LIVE_OPTIONS holds a JSON object of live
 * options, the same as `npm run simulator -- --live-options` takes. Empty values count as unset.
 * Throws LiveEnvError for anything else, the options checked in full, so a bad one is refused
 * before anything listens.
 */
export function liveFromEnv(env: Env): LiveOptions | undefined {
  const flag = setValue(env, LIVE_ENV);
  if (flag !== undefined && flag !== 'true' && flag !== 'false') throw new LiveEnvError(LIVE_ENV, flag, 'one of true, false');
  const text = setValue(env, LIVE_OPTIONS_ENV);
  if (text === undefined) return flag === 'false' ? undefined : {};
  if (flag === 'false') throw new LiveEnvError(LIVE_OPTIONS_ENV, text, `no value while ${LIVE_ENV}=false turns live mode off`);
  const options = parseOptions(text);
  try {
    // A fresh store is the seed, whose engines are what engineIds is checked against.
    checkLiveOptions(options, new SimStore());
  } catch (error) {
    throw new LiveEnvError(LIVE_OPTIONS_ENV, text, `valid live options (${oneLine(error)})`);
  }
  return options;
}

/** Everything `npm start` reads for its embedded simulator; each refused as liveFromEnv refuses. */
export interface DemoSimulatorEnv {
  live: LiveOptions | undefined;
  /** DEMO_SIMULATOR_PORT unless SIMULATOR_PORT is set (0: any free port). */
  port: number;
  /** Whether SIMULATOR_PORT chose the port: a chosen port in use stops the start; the default gives way. */
  portChosen: boolean;
  scenario: ScenarioName | undefined;
}

export function demoSimulatorFromEnv(env: Env): DemoSimulatorEnv {
  const live = liveFromEnv(env);
  const portText = setValue(env, PORT_ENV);
  const port = portText === undefined ? DEMO_SIMULATOR_PORT : Number(portText);
  if (!/^\d+$/.test(portText ?? '0') || port > 65_535) throw new LiveEnvError(PORT_ENV, portText ?? '', 'a port number 0..65535 (0: any free port)');
  const scenario = setValue(env, SCENARIO_ENV);
  if (scenario !== undefined && !isScenarioName(scenario)) throw new LiveEnvError(SCENARIO_ENV, scenario, `one of ${SCENARIO_NAMES.join(', ')}`);
  return { live, port, portChosen: portText !== undefined, scenario };
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

function setValue(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

function parseOptions(text: string): LiveOptions {
  const expected = 'a JSON object of live options, as `npm run simulator -- --live-options` takes';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LiveEnvError(LIVE_OPTIONS_ENV, text, expected);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new LiveEnvError(LIVE_OPTIONS_ENV, text, expected);
  return value as LiveOptions;
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
