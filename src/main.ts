import { ConfigError, loadConfig, type GatewayConfig, type HttpConfig } from './config/loadConfig';
import { startGateway, type RunningGateway } from './gateway';
import { createProcessLogger, type Logger, type ProcessLogger } from './observability/logger';
// Types only: the simulator is loaded when it is started, so that a production build (the image)
// can leave it out.
import type { DemoSimulatorEnv, Simulator } from '@cse-jobs-gateway/simulator';

type SimulatorModule = typeof import('@cse-jobs-gateway/simulator');

/** How long exiting waits for the last log lines when stdout does not take them. */
const LOG_CLOSE_TIMEOUT_MS = 2000;

const EXAMPLE_QUERY = `{
  engines(first: 3) {
    totalCount
    nodes { id name status latestJob { id type status } }
  }
}`;

/**
 * `npm start`: the gateway, against CSE_ENDPOINT or, when it is unset, the embedded simulator,
 * in live mode so the demo shows jobs progressing (see demoLive).
 */
async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) failStartup(error.message, error.nodeEnv);
    throw error;
  }
  let demo: DemoSimulatorEnv | undefined;
  let sim: SimulatorModule | undefined;
  try {
    if (config.upstream.endpoint === undefined && !config.upstream.simulator.allowed) {
      // Fake data served in production by accident is worse than no start at all.
      throw new ConfigError(
        'CSE_ENDPOINT',
        '',
        `the engine-manager endpoint (https://…): the embedded simulator and its fake data are served with NODE_ENV=${config.nodeEnv} only when EMBEDDED_SIMULATOR=true`,
      );
    }
    if (config.upstream.endpoint === undefined) {
      // Loaded only here, with CommonJS's require: the build stays one module system.
      sim = require('@cse-jobs-gateway/simulator') as SimulatorModule;
      demo = demoSimulator(sim, config.upstream.simulator.settings);
    }
  } catch (error) {
    if (error instanceof ConfigError) failStartup(error.message, config.nodeEnv);
    throw error;
  }
  let log: ProcessLogger;
  try {
    log = createProcessLogger(config.observability.logLevel, { pretty: config.observability.logPretty });
  } catch (error) {
    failStartup(error instanceof Error ? error.message : String(error), config.nodeEnv);
  }
  const { logger } = log;
  const lifecycle = lifecycleOf(logger, config);

  let simulator: Simulator | undefined;
  let endpoint: string;
  if (demo === undefined || sim === undefined) {
    // The simulator's settings are read exactly when CSE_ENDPOINT is unset.
    endpoint = config.upstream.endpoint as string;
  } else {
    const { port } = demo;
    simulator = await startEmbeddedSimulator(sim, demo, logger).catch(async (error: unknown) => {
      await log.close(LOG_CLOSE_TIMEOUT_MS);
      return failStartup(simulatorFailure(sim!, error, port), config.nodeEnv);
    });
    endpoint = simulator.url;
    // The simulator's demo project is the default unless the operator chose one.
    if (config.upstream.projectId === undefined) {
      config = Object.freeze({ ...config, upstream: Object.freeze({ ...config.upstream, projectId: sim.DEMO_PROJECT_ID }) });
    }
    lifecycle.info(
      { simulator: simulator.url, live: simulator.live !== undefined, ...(demo.scenario === undefined ? {} : { scenario: demo.scenario }) },
      'CSE_ENDPOINT is unset: started the embedded CSE simulator in-process',
    );
    if (config.nodeEnv === 'production') logger.warn('EMBEDDED_SIMULATOR=true: serving the simulator\'s fake data, not a CSE account\'s');
  }

  // The demo token is preset in the explorer only when it is the simulator's that answers.
  const demoToken = simulator !== undefined ? sim?.DEMO_TOKEN : undefined;
  const gateway = await startGateway(config, { logger, endpoint, demoToken }).catch(async (error: unknown) => {
    // Configuration read at start-up (e.g. the persisted query manifest) stops the process like
    // bad config; so does a port in use: one line that says what to do, never a stack trace.
    // The lines logged so far (which settings, Redis) are written out first.
    await log.close(LOG_CLOSE_TIMEOUT_MS);
    return failStartup(error instanceof ConfigError ? error.message : startupFailure(error, config.http), config.nodeEnv);
  });
  // `url` last, right before the message: scripts that wait for `"url":"…","msg":"gateway listening"` keep matching.
  lifecycle.info({ ...(gateway.metricsUrl === undefined ? {} : { metrics: gateway.metricsUrl }), url: gateway.url }, 'gateway listening');
  // In production every line is a JSON log line: the banner is for a person at a terminal.
  if (config.nodeEnv === 'production') {
    onSignals(config, log, lifecycle, gateway, simulator);
    return;
  }

  const lines = [`\nGateway ready at ${gateway.url}`];
  if (simulator !== undefined && sim !== undefined) {
    lines.push('Send the demo token with every request:', `X-Auth-Token: ${sim.DEMO_TOKEN}`, liveBanner(sim, simulator), ...simulatorBanner(sim, simulator, demo?.scenario));
  }
  lines.push(
    'Example query:',
    EXAMPLE_QUERY,
    `curl -s ${gateway.url} -H 'content-type: application/json' -H 'X-Auth-Token: ${demoToken ?? '<your token>'}' \\`,
    `  --data '${JSON.stringify({ query: EXAMPLE_QUERY.replace(/\s+/g, ' ') })}'`,
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  onSignals(config, log, lifecycle, gateway, simulator);
}

/**
 * Graceful shutdown (see RunningGateway.close) on SIGTERM and SIGINT.
 */
function onSignals(config: GatewayConfig, log: ProcessLogger, lifecycle: Logger, gateway: RunningGateway, simulator: Simulator | undefined): void {
  const { logger } = log;
  // Graceful shutdown (see RunningGateway.close): readiness false, stop accepting, let in-flight
  // operations finish within SHUTDOWN_TIMEOUT_MS, close the upstream pool and the simulator, exit 0.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // An operator pressing Ctrl-C twice means "now".
      logger.warn({ signal }, 'second signal during shutdown: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    lifecycle.info({ signal, delayMs: config.http.shutdownDelayMs, timeoutMs: config.http.shutdownTimeoutMs }, 'shutting down: draining in-flight operations');
    // Every step is bounded on its own; this only catches a step that never settles.
    const deadline = setTimeout(() => {
      logger.error('shutdown did not finish in time: exiting');
      process.exit(1);
    }, config.http.shutdownDelayMs + 2 * config.http.shutdownTimeoutMs + 5000);
    deadline.unref();
    gateway
      .close()
      .then(() => simulator?.close())
      .then(
        () => {
          lifecycle.info('stopped');
          return 0;
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          return 1;
        },
      )
      // The last lines reach stdout, in order, before the process ends (see createProcessLogger).
      .then(async (code) => {
        await log.close(LOG_CLOSE_TIMEOUT_MS);
        process.exit(code);
      });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/**
 * The logger of the process's lifecycle lines (started the simulator, listening, shutting down,
 * stopped): written at info whatever LOG_LEVEL above it says (`warn` keeps operation lines out,
 * not the few lines that say where the gateway listens and when it stops); `silent` silences them.
 */
function lifecycleOf(logger: Logger, config: GatewayConfig): Logger {
  if (config.observability.logLevel === 'silent' || logger.isLevelEnabled('info')) return logger;
  return logger.child({}, { level: 'info' });
}

/**
 * Stops the start with one line on stderr and exit status 1: JSON in production (as every line
 * there), the plain sentence elsewhere.
 */
function failStartup(message: string, nodeEnv: GatewayConfig['nodeEnv'] | undefined): never {
  const line = nodeEnv === 'production' ? JSON.stringify({ level: 'fatal', time: new Date().toISOString(), service: 'cse-jobs-gateway', msg: message }) : message;
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

/** A start-up failure in one sentence that says what to do: the errors operators meet, by their code. */
function startupFailure(error: unknown, http: Pick<HttpConfig, 'host' | 'port' | 'metricsPort'>): string {
  const { code, port: failed } = (error ?? {}) as NodeJS.ErrnoException & { port?: number };
  // The listen that failed says its port: PORT's, or METRICS_PORT's.
  const port = failed ?? http.port;
  const setting = port === http.metricsPort && port !== http.port ? 'METRICS_PORT' : 'PORT';
  const address = `${http.host ?? '0.0.0.0'}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return `Cannot listen on ${address}: the address is already in use (EADDRINUSE). Set ${setting} to a free port, or stop the process that holds it.`;
    case 'EACCES':
      return `Cannot listen on ${address}: permission denied (EACCES). Ports below 1024 need privileges: set ${setting} to 1024 or above.`;
    case 'EADDRNOTAVAIL':
      return `Cannot listen on ${address}: HOST is not an address of this machine (EADDRNOTAVAIL).`;
    default:
      return `The gateway could not start: ${error instanceof Error ? error.message : String(error)}`.replace(/\s*\n\s*/g, ' ');
  }
}

/** The embedded simulator's settings (SIMULATOR_*), refused like other bad configuration. */
function demoSimulator({ demoSimulatorFromEnv, LiveEnvError }: SimulatorModule, settings: Readonly<Record<string, string>>): DemoSimulatorEnv {
  try {
    return demoSimulatorFromEnv(settings);
  } catch (error) {
    if (error instanceof LiveEnvError) throw new ConfigError(error.variable, error.value, error.expected);
    throw error;
  }
}

/**
 * The simulator on its port: SIMULATOR_PORT's, else DEMO_SIMULATOR_PORT. A port the operator chose
 * must be had; the default gives way to any free port when something else holds it (a second
 * `npm start`, `npm run simulator`), with a warning, and the banner prints where it went.
 * Always on 127.0.0.1: its `/__sim/` controls have no authentication.
 */
async function startEmbeddedSimulator({ startSimulator, PORT_ENV }: SimulatorModule, demo: DemoSimulatorEnv, logger: Logger): Promise<Simulator> {
  const options = { host: '127.0.0.1', live: demo.live, ...(demo.scenario === undefined ? {} : { scenario: demo.scenario }) };
  try {
    return await startSimulator({ ...options, port: demo.port });
  } catch (error) {
    if (demo.portChosen || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    logger.warn(`the simulator's default port 127.0.0.1:${demo.port} is in use: listening on a free port instead (set ${PORT_ENV} to choose one)`);
    return startSimulator({ ...options, port: 0 });
  }
}

function simulatorFailure({ PORT_ENV }: SimulatorModule, error: unknown, port: number): string {
  const { code } = (error ?? {}) as NodeJS.ErrnoException;
  if (code === 'EADDRINUSE') {
    return `Cannot start the simulator on 127.0.0.1:${port}: the address is already in use (EADDRINUSE). Set ${PORT_ENV} to a free port (0: any), or stop the process that holds it.`;
  }
  if (code === 'EACCES') return `Cannot start the simulator on 127.0.0.1:${port}: permission denied (EACCES). Set ${PORT_ENV} to 1024 or above.`;
  return `The simulator could not start: ${error instanceof Error ? error.message : String(error)}`.replace(/\s*\n\s*/g, ' ');
}

/** Where the simulator and its controls are, and the scenario it started with. */
function simulatorBanner({ PORT_ENV, SCENARIO_ENV, SCENARIOS }: SimulatorModule, simulator: Simulator, scenario: DemoSimulatorEnv['scenario']): string[] {
  const lines = [`Simulator: ${simulator.url} (controls under ${simulator.url}/__sim/, see docs/simulator.md; ${PORT_ENV} moves it).`];
  if (scenario === undefined) lines.push(`No fault scenario (${SCENARIO_ENV}=<name> starts with one).`);
  else lines.push(`Fault scenario ${scenario}: ${SCENARIOS[scenario].description}. curl -X DELETE ${simulator.url}/__sim/faults clears it.`);
  return lines;
}

/** One line: whether the demo's jobs move, and how. */
function liveBanner({ describeLive, LIVE_ENV }: SimulatorModule, simulator: Simulator): string {
  const status = simulator.live;
  if (status === undefined) return `Live mode is off (${LIVE_ENV}=false): the simulated jobs stay as seeded.`;
  return `Live mode is on: ${describeLive(status.options)}. ${LIVE_ENV}=false turns it off.`;
}

void main();
