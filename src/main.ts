import { ConfigError, configWarnings, loadConfig, type GatewayConfig } from './config/loadConfig';
import { startGateway } from './gateway';
import { createProcessLogger, type ProcessLogger } from './observability/logger';
import {
  DEMO_PROJECT_ID,
  DEMO_TOKEN,
  describeLive,
  LIVE_ENV,
  LIVE_OPTIONS_ENV,
  LiveEnvError,
  liveFromEnv,
  startSimulator,
  type LiveOptions,
  type Simulator,
} from './simulator';

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
  let live: LiveOptions | undefined;
  try {
    config = loadConfig(process.env);
    if (config.cseEndpoint === undefined) live = demoLive();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  let log: ProcessLogger;
  try {
    log = createProcessLogger(config.logLevel, { pretty: config.logPretty });
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  const { logger } = log;
  for (const warning of configWarnings(config)) logger.warn(warning);
  if (config.cseEndpoint !== undefined && (process.env[LIVE_ENV] || process.env[LIVE_OPTIONS_ENV])) {
    logger.warn(`${LIVE_ENV} and ${LIVE_OPTIONS_ENV} are ignored: CSE_ENDPOINT is set, so no simulator is started`);
  }

  let simulator: Simulator | undefined;
  let endpoint: string;
  if (config.cseEndpoint !== undefined) {
    endpoint = config.cseEndpoint;
  } else {
    simulator = await startSimulator({ live });
    endpoint = simulator.url;
    // The simulator's demo project is the default unless the operator chose one.
    if (config.cseProjectId === undefined) config = Object.freeze({ ...config, cseProjectId: DEMO_PROJECT_ID });
    logger.info({ simulator: simulator.url, live: simulator.live !== undefined }, 'CSE_ENDPOINT is unset: started the embedded CSE simulator in-process');
  }

  // The demo token is preset in the explorer only when it is the simulator's that answers.
  const demoToken = simulator !== undefined ? DEMO_TOKEN : undefined;
  const gateway = await startGateway(config, { logger, endpoint, demoToken }).catch((error: unknown) => {
    // Configuration read at start-up (e.g. the persisted query manifest) stops the process like bad config.
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
  logger.info({ url: gateway.url }, 'gateway listening');

  const lines = [`\nGateway ready at ${gateway.url}`];
  if (simulator !== undefined) {
    lines.push('Send the demo token with every request:', `X-Auth-Token: ${DEMO_TOKEN}`, liveBanner(simulator));
  }
  lines.push(
    'Example query:',
    EXAMPLE_QUERY,
    `curl -s ${gateway.url} -H 'content-type: application/json' -H 'X-Auth-Token: ${simulator !== undefined ? DEMO_TOKEN : '<your token>'}' \\`,
    `  --data '${JSON.stringify({ query: EXAMPLE_QUERY.replace(/\s+/g, ' ') })}'`,
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);

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
    logger.info({ signal, delayMs: config.shutdownDelayMs, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: draining in-flight operations');
    // Every step is bounded on its own; this only catches a step that never settles.
    const deadline = setTimeout(() => {
      logger.error('shutdown did not finish in time: exiting');
      process.exit(1);
    }, config.shutdownDelayMs + 2 * config.shutdownTimeoutMs + 5000);
    deadline.unref();
    gateway
      .close()
      .then(() => simulator?.close())
      .then(
        () => {
          logger.info('stopped');
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

/** The embedded simulator's live mode, from SIMULATOR_LIVE / SIMULATOR_LIVE_OPTIONS, refused like other bad configuration. */
function demoLive(): LiveOptions | undefined {
  try {
    return liveFromEnv(process.env);
  } catch (error) {
    if (error instanceof LiveEnvError) throw new ConfigError(error.variable, error.value, error.expected);
    throw error;
  }
}

/** One line: whether the demo's jobs move, and how. */
function liveBanner(simulator: Simulator): string {
  const status = simulator.live;
  if (status === undefined) return `Live mode is off (${LIVE_ENV}=false): the simulated jobs stay as seeded.`;
  return `Live mode is on: ${describeLive(status.options)}. ${LIVE_ENV}=false turns it off.`;
}

void main();
