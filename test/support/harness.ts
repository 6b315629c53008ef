import { Writable } from 'node:stream';
import { Agent, request } from 'undici';
import { loadConfig, type GatewayConfig } from '../../src/config/loadConfig';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { createLogger } from '../../src/observability/logger';
import { DEMO_PROJECT_ID, DEMO_TOKEN, startSimulator, type Simulator } from '@cse-jobs-gateway/simulator';

export interface Harness {
  readonly simulator: Simulator;
  readonly gateway: RunningGateway;
  readonly config: GatewayConfig;
  /** Every log line the gateway wrote (JSON text), at the level LOG_LEVEL chose. */
  readonly logs: string[];
  /** POSTs an operation to the gateway over real HTTP; the demo token unless `headers` says otherwise.
   * `from`: another loopback address as the client's (127.0.0.2: another client to per-address bounds). */
  gql<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string | undefined>, from?: string): Promise<GqlResponse<T>>;
  close(): Promise<void>;
}

export interface GqlResponse<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { data?: T; errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, any> }> };
  text: string;
}

/** One gateway of a harness: what {@link Harness} has, except the simulator it talks to. */
export type GatewayHarness = Omit<Harness, 'simulator'>;

/**
 * The real thing: the simulator and the gateway, each on 127.0.0.1 port 0, talking HTTP.
 * `env` overrides the gateway's environment (validated by the same loadConfig as production);
 * `options.presetDemoToken` has the explorer preset the demo token, as `npm start` does.
 */
export async function startHarness(env: Record<string, string> = {}, options: { presetDemoToken?: boolean } = {}): Promise<Harness> {
  const simulator = await startSimulator();
  const gateway = await startGatewayOn(simulator, env, options);
  return {
    ...gateway,
    simulator,
    async close() {
      await gateway.close();
      await simulator.close();
    },
  };
}

/**
 * A gateway on an existing simulator (several replicas behind one upstream, say); `close` stops
 * the gateway alone.
 */
export async function startGatewayOn(
  simulator: Pick<Simulator, 'url'>,
  env: Record<string, string> = {},
  options: { presetDemoToken?: boolean } = {},
): Promise<GatewayHarness> {
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    CSE_PROJECT_ID: DEMO_PROJECT_ID,
    // Production's default waits for a load balancer that tests do not have.
    SHUTDOWN_DELAY_MS: '0',
    // The whole suite can run under the reference executor: TEST_GRAPHQL_EXECUTOR=graphql-js npx jest …
    ...(process.env.TEST_GRAPHQL_EXECUTOR === undefined ? {} : { GRAPHQL_EXECUTOR: process.env.TEST_GRAPHQL_EXECUTOR }),
    // Production serves /metrics on a port of its own (9464 by default): any free one here, so
    // gateways of parallel test files never meet there (see RunningGateway.metricsUrl).
    ...(env.NODE_ENV === 'production' ? { METRICS_PORT: '0' } : {}),
    ...env,
  });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const gateway = await startGateway(config, {
    logger: createLogger(config.observability.logLevel, destination),
    endpoint: simulator.url,
    demoToken: options.presetDemoToken === true ? DEMO_TOKEN : undefined,
  });

  const clients = new Map<string, Agent>();
  const clientFrom = (from: string) => {
    let client = clients.get(from);
    if (client === undefined) clients.set(from, (client = new Agent({ localAddress: from })));
    return client;
  };
  return {
    gateway,
    config,
    logs,
    async gql(query, variables, headers = {}, from) {
      const allHeaders: Record<string, string> = { 'content-type': 'application/json', 'x-auth-token': DEMO_TOKEN };
      for (const [name, value] of Object.entries(headers)) {
        if (value === undefined) delete allHeaders[name.toLowerCase()];
        else allHeaders[name.toLowerCase()] = value;
      }
      const response = await request(gateway.url, {
        method: 'POST',
        headers: allHeaders,
        body: JSON.stringify({ query, variables }),
        ...(from === undefined ? {} : { dispatcher: clientFrom(from) }),
      });
      const text = await response.body.text();
      return { status: response.statusCode, headers: response.headers, body: JSON.parse(text), text };
    },
    async close() {
      await Promise.all([...clients.values()].map((client) => client.close()));
      await gateway.close();
    },
  };
}

/** Every cache off (see CACHES_OFF), for tests that count upstream calls per operation. */
export { CACHES_OFF } from './cachesOff';

/** The `extensions.code` of every error of a response, in order. */
export function errorCodes(response: GqlResponse<unknown>): string[] {
  return (response.body.errors ?? []).map((error) => String(error.extensions?.code));
}
