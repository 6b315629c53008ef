import { ConfigError, loadConfig, type GatewayConfig } from './config/loadConfig';
import { createProcessLogger, type ProcessLogger } from './observability/logger';
// Types only: the simulator is loaded when it starts, so a production build (the image) can leave it out.
import type { DemoSimulator } from '@cse-jobs-gateway/simulator';

const LOG_CLOSE_TIMEOUT_MS = 2000;

const EXAMPLE_QUERY = `{
  engines(first: 3) {
    totalCount
    nodes { id name status latestJob { id type status } }
  }
}`;

/** `npm start`: the gateway, against CSE_ENDPOINT or, when it is unset, the embedded simulator. */
async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) failStartup(error.message, error.nodeEnv);
    throw error;
  }
  const { nodeEnv, upstream } = config;
  if (upstream.endpoint === undefined && !upstream.simulator.allowed) {
    const expected =
      'the engine-manager endpoint (https://…): the embedded simulator and its fake data are served ' +
      `with NODE_ENV=${nodeEnv} only when EMBEDDED_SIMULATOR=true`;
    failStartup(new ConfigError('CSE_ENDPOINT', '', expected).message, nodeEnv);
  }
  let log: ProcessLogger;
  try {
    log = createProcessLogger(config.observability.logLevel, config.observability.logPretty);
  } catch (error) {
    failStartup(error instanceof Error ? error.message : String(error), nodeEnv);
  }
  const { logger } = log;
  // Lifecycle lines (simulator, listening, shutting down, stopped) at info whatever LOG_LEVEL above it says.
  const asIs = config.observability.logLevel === 'silent' || logger.isLevelEnabled('info');
  const lifecycle = asIs ? logger : logger.child({}, { level: 'info' });
  // The lines logged so far are written out before a failed start's one line.
  const fail = async (message: string): Promise<never> => {
    await log.close(LOG_CLOSE_TIMEOUT_MS);
    return failStartup(message, nodeEnv);
  };

  let demo: DemoSimulator | undefined;
  if (upstream.endpoint === undefined) {
    // CommonJS's require: the build stays one module system.
    const sim = require('@cse-jobs-gateway/simulator') as typeof import('@cse-jobs-gateway/simulator');
    const warn = (line: string) => logger.warn(line);
    const reserved = [config.http.port, config.http.metricsPort].filter((port) => port !== undefined);
    demo = await sim.startDemoSimulator({ ...upstream.simulator, reserved }, warn).catch((error: Error) => {
      if (!(error instanceof sim.DemoSettingError)) return fail(error.message);
      return fail(new ConfigError(error.variable, error.value, error.expected).message);
    });
    const { scenario } = upstream.simulator;
    const fields = { simulator: demo.simulator.url, live: demo.simulator.live !== undefined, scenario };
    lifecycle.info(fields, 'CSE_ENDPOINT is unset: started the embedded CSE simulator in-process');
    const projectId = upstream.projectId ?? demo.projectId;
    config = Object.freeze({ ...config, upstream: Object.freeze({ ...upstream, projectId }) });
    if (nodeEnv === 'production') {
      logger.warn("EMBEDDED_SIMULATOR=true: serving the simulator's fake data, not a CSE account's");
    }
  }

  const demoToken = demo?.token;
  const endpoint = demo?.simulator.url ?? (upstream.endpoint as string);
  // Loaded once the configuration and the simulator hold, so a bad setting fails before its modules load.
  const { startGateway, shutdownDeadlineMs, ignoreAbandonedBranches } = require('./gateway') as typeof import('./gateway');
  // Counted once the gateway's metrics exist: none can occur before it serves.
  let ignored = (): void => {};
  ignoreAbandonedBranches(() => ignored());
  const gateway = await startGateway(config, { logger, endpoint, demoToken }).catch((error: unknown) =>
    fail(error instanceof ConfigError ? error.message : startupFailure(error, config.http)),
  );
  ignored = gateway.metrics.observeAbandonedBranchError;
  // `url` last, right before the message: scripts wait for `"url":"…","msg":"gateway listening"`.
  lifecycle.info({ metrics: gateway.metricsUrl, url: gateway.url }, 'gateway listening');
  // In production every line is a JSON log line: the banner is for a person at a terminal.
  if (nodeEnv !== 'production') {
    const token = demoToken ?? '<your token>';
    const lines = [
      `\nGateway ready at ${gateway.url}`,
      ...(demo?.banner ?? []),
      'Example query:',
      EXAMPLE_QUERY,
      `curl -s ${gateway.url} -H 'content-type: application/json' -H 'X-Auth-Token: ${token}' \\`,
      `  --data '${JSON.stringify({ query: EXAMPLE_QUERY.replace(/\s+/g, ' ') })}'`,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }

  const { shutdownDelayMs: delayMs, shutdownTimeoutMs: timeoutMs } = config.http;
  let stopping = false;
  let exiting = false;
  // Exit 1 without waiting for the requests in flight, saying how many; the lines so far still reach
  // stdout (bounded): a bare process.exit loses what the asynchronous destination still holds.
  const cut = async (level: 'warn' | 'error', message: string, fields: object = {}) => {
    // Already writing out the last lines: a further signal means "now".
    if (exiting) process.exit(1);
    exiting = true;
    lifecycle[level]({ ...fields, requestsCut: gateway.operationsInFlight() }, message);
    await log.close(LOG_CLOSE_TIMEOUT_MS);
    process.exit(1);
  };
  const stop = async (signal: NodeJS.Signals) => {
    // An operator pressing Ctrl-C twice means "now".
    if (stopping) return cut('warn', 'second signal during shutdown: exiting without waiting for in-flight requests', { signal });
    stopping = true;
    lifecycle.info({ signal, delayMs, timeoutMs }, 'shutting down: draining in-flight operations');
    // Every step is bounded on its own; this only catches a step that never settles, early enough
    // for its lines to be written within the deadline.
    const deadlineMs = shutdownDeadlineMs(config.http) - LOG_CLOSE_TIMEOUT_MS;
    setTimeout(() => void cut('error', 'shutdown did not finish in time: exiting'), deadlineMs).unref();
    let code = 0;
    try {
      await gateway.close();
      await demo?.simulator.close();
      lifecycle.info('stopped');
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      code = 1;
    }
    // The last lines reach stdout, in order, before the process ends.
    if (exiting) return;
    exiting = true;
    await log.close(LOG_CLOSE_TIMEOUT_MS);
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, (name) => void stop(name));
}

/** One line on stderr and exit status 1: JSON in production, as every line there. */
function failStartup(message: string, nodeEnv: GatewayConfig['nodeEnv'] | undefined): never {
  const json = { level: 'fatal', time: new Date().toISOString(), service: 'cse-jobs-gateway', msg: message };
  process.stderr.write(`${nodeEnv === 'production' ? JSON.stringify(json) : message}\n`);
  process.exit(1);
}

/** A failed listen in one sentence that says what to do; anything else in one line, never a stack trace. */
function startupFailure(error: unknown, http: GatewayConfig['http']): string {
  const { code, port = http.port } = (error ?? {}) as NodeJS.ErrnoException & { port?: number };
  const setting = port === http.metricsPort && port !== http.port ? 'METRICS_PORT' : 'PORT';
  const at = `Cannot listen on ${http.host ?? '0.0.0.0'}:${port}`;
  const reason = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'EADDRINUSE':
      return `${at}: the address is already in use (EADDRINUSE). ` +
        `Set ${setting} to a free port, or stop the process that holds it.`;
    case 'EACCES':
      return `${at}: permission denied (EACCES). Ports below 1024 need privileges: set ${setting} to 1024 or above.`;
    case 'EADDRNOTAVAIL':
      return `${at}: HOST is not an address of this machine (EADDRNOTAVAIL).`;
    default:
      return `The gateway could not start: ${reason}`.replace(/\s*\n\s*/g, ' ');
  }
}

void main();
