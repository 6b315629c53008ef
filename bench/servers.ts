import { join } from 'node:path';
import { request } from 'undici';
import { DEMO_PROJECT_ID, DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { startChild, type Child } from './childProcess';
import { cacheEnv, type CacheMode } from './records';
import { BIG_ENGINE_ID, WALK_QUERY, type HttpAsk } from './scenarios';

/** The processes of one latency setting: the simulator, one gateway per cache mode, the floor. */
export interface Servers {
  latencyMs: number;
  simulator: Child;
  gateways: ReadonlyMap<CacheMode, Child>;
  floor: Child;
  /** With `storedAnswers`: the ceiling (ceiling.ts) and a gateway at LOG_LEVEL=info, caches default. */
  ceiling?: Child;
  infoGateway?: Child;
  /** Cursors of the big engine's items, in list order, per gateway (each gateway mints its own). */
  cursors: ReadonlyMap<CacheMode, readonly string[]>;
  stop(): Promise<void>;
}

export interface ServerOptions {
  latencyMs: number;
  caches: readonly CacheMode[];
  /** The compiled gateway entry point, normally dist/main.js. */
  gatewayEntry: string;
  /** Extra node flags for the gateways, e.g. `--cpu-prof`. */
  gatewayNodeOptions?: string[];
  /** Extra gateway settings (see --gateway-env); they override the benchmark's own. */
  gatewayEnv?: Readonly<Record<string, string>>;
  /** Also start the ceiling and the gateway at info (needs the `default` cache mode). */
  storedAnswers?: boolean;
}

/** In the compiled bench (dist/bench/bench/), beside this file. */
const here = (file: string): string => join(__dirname, file);

export async function startServers(options: ServerOptions): Promise<Servers> {
  const started: Child[] = [];
  const stop = async (): Promise<void> => {
    // Targets first, so none is left calling a simulator that has gone.
    await Promise.all(started.filter((child) => child.name !== 'simulator').map((child) => child.stop()));
    await Promise.all(started.filter((child) => child.name === 'simulator').map((child) => child.stop()));
  };
  try {
    const simulator = await startChild({
      name: 'simulator',
      entry: here('simulatorChild.js'),
      args: ['--latency', String(options.latencyMs)],
      ready: /Simulator ready at (\S+)/,
      ipc: true,
    });
    started.push(simulator);
    const gateways = new Map<CacheMode, Child>();
    const cursors = new Map<CacheMode, readonly string[]>();
    for (const mode of options.caches) {
      const gateway = await startChild({
        name: `gateway (cache ${mode})`,
        entry: options.gatewayEntry,
        nodeOptions: options.gatewayNodeOptions,
        env: { ...gatewayEnv(simulator.url, mode), ...options.gatewayEnv },
        ready: /"url":"(http:\/\/[^"]+)","msg":"gateway listening"/,
      });
      started.push(gateway);
      gateways.set(mode, gateway);
      cursors.set(mode, await walkCursors(gateway.url));
    }
    const floor = await startChild({
      name: 'floor',
      entry: here('floor.js'),
      args: ['--upstream', simulator.url, '--project', DEMO_PROJECT_ID],
      ready: /Floor ready at (\S+)/,
    });
    started.push(floor);
    const cached = gateways.get('default');
    if (options.storedAnswers !== true || cached === undefined) {
      return { latencyMs: options.latencyMs, simulator, gateways, floor, cursors, stop };
    }
    const ceiling = await startChild({ name: 'ceiling', entry: here('ceiling.js'), args: ['--gateway', cached.url], ready: /Ceiling ready at (\S+)/ });
    started.push(ceiling);
    const infoGateway = await startChild({
      name: 'gateway (cache default, LOG_LEVEL=info)',
      entry: options.gatewayEntry,
      nodeOptions: options.gatewayNodeOptions,
      env: { ...gatewayEnv(simulator.url, 'default'), ...options.gatewayEnv, LOG_LEVEL: 'info' },
      ready: /"url":"(http:\/\/[^"]+)","msg":"gateway listening"/,
    });
    started.push(infoGateway);
    return { latencyMs: options.latencyMs, simulator, gateways, floor, ceiling, infoGateway, cursors, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The environment of a gateway under measurement: production mode, as deployed, against
 * `upstream` with the simulator's demo project, and the caches of `mode`. Nothing of the
 * benchmark's own environment is inherited.
 */
export function gatewayEnv(upstream: string, mode: CacheMode): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    CSE_ENDPOINT: upstream,
    CSE_PROJECT_ID: DEMO_PROJECT_ID,
    // Production serves /metrics on a port of its own (9464 by default): any free one, so that
    // gateways running side by side never meet there (see metricsUrlOf).
    METRICS_PORT: '0',
    // No load balancer to wait for: stop at once.
    SHUTDOWN_DELAY_MS: '0',
    ...cacheEnv(mode),
  };
}

/** A production gateway's /metrics URL (METRICS_PORT), from its ready line: ask soon after it started (the output is a tail). */
export function metricsUrlOf(gateway: Child): string {
  const url = /"metrics":"(http:\/\/[^"]+)"[^\n]*"msg":"gateway listening"/.exec(gateway.output())?.[1];
  if (url === undefined) throw new Error(`${gateway.name}: no /metrics URL in its ready line`);
  return url;
}

/** POSTs one operation; throws, with the codes, when the answer has errors. */
export async function graphql<T>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const headers = { 'content-type': 'application/json', 'x-auth-token': DEMO_TOKEN };
  return answerOf<T>(url, { method: 'POST', path: new URL(url).pathname, headers, body: JSON.stringify({ query, variables }) });
}

/** Sends one request as the load generator would; throws, with the codes, when the answer has errors. */
export async function answerOf<T>(url: string, ask: HttpAsk): Promise<T> {
  const response = await request(new URL(ask.path, url), { method: ask.method, headers: ask.headers, body: ask.body });
  const body = (await response.body.json()) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  if (response.statusCode !== 200 || body.errors !== undefined || body.data === undefined) {
    const problems = (body.errors ?? []).map((e) => `${e.extensions?.code ?? '?'}: ${e.message}`).join('; ');
    throw new Error(`the gateway answered HTTP ${response.statusCode} with errors: ${problems || 'no data'}`);
  }
  return body.data;
}

interface WalkPage {
  engine: { jobs: { edges: Array<{ cursor: string }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } | null;
}

/** Every cursor of the big engine's job list, by paging through it once. */
export async function walkCursors(url: string): Promise<string[]> {
  const cursors: string[] = [];
  let after: string | null = null;
  for (;;) {
    const data: WalkPage = await graphql<WalkPage>(url, WALK_QUERY, { id: BIG_ENGINE_ID, after });
    if (data.engine === null) throw new Error('the big engine is missing from the simulator');
    cursors.push(...data.engine.jobs.edges.map((edge) => edge.cursor));
    if (!data.engine.jobs.pageInfo.hasNextPage || data.engine.jobs.pageInfo.endCursor === null) return cursors;
    after = data.engine.jobs.pageInfo.endCursor;
  }
}
