import { ConfigError, loadConfig, type GatewayConfig } from './config/loadConfig';
import { startGateway } from './gateway';
import { createLogger } from './observability/logger';
import { DEMO_PROJECT_ID, DEMO_TOKEN, startSimulator, type Simulator } from './simulator';

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
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);

  let simulator: Simulator | undefined;
  let endpoint: string;
  if (config.cseEndpoint !== undefined) {
    endpoint = config.cseEndpoint;
  } else {
    simulator = await startSimulator();
    endpoint = simulator.url;
    // The simulator's demo project is the default unless the operator chose one.
    if (config.cseProjectId === undefined) config = Object.freeze({ ...config, cseProjectId: DEMO_PROJECT_ID });
    logger.info({ simulator: simulator.url }, 'CSE_ENDPOINT is unset: started the embedded CSE simulator in-process');
  }

  const gateway = await startGateway(config, { logger, endpoint });
  logger.info({ url: gateway.url }, 'gateway listening');

  const lines = [`\nGateway ready at ${gateway.url}`];
  if (simulator !== undefined) {
    lines.push('Send the demo token with every request:', `X-Auth-Token: ${DEMO_TOKEN}`);
  }
  lines.push(
    'Example query:',
    EXAMPLE_QUERY,
    `curl -s ${gateway.url} -H 'content-type: application/json' -H 'X-Auth-Token: ${simulator !== undefined ? DEMO_TOKEN : '<your token>'}' \\`,
    `  --data '${JSON.stringify({ query: EXAMPLE_QUERY.replace(/\s+/g, ' ') })}'`,
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);

  const stop = async () => {
    await gateway.close();
    await simulator?.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

void main();
