import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import type { GatewayConfig } from './config/loadConfig';
import type { ContextServices, GatewayContext } from './graphql/context';
import { createFormatError } from './graphql/formatError';
import { createOperationExecutor, executionGateway } from './graphql/execution/operationExecutor';
import { buildGatewaySchema } from './graphql/buildSchema';
import { createHttpServer, GRAPHQL_PATH, openFileLimit } from './http/httpServer';
import { corsPolicy, createCorsHandler } from './http/cors';
import { createInFlightRequests } from './cache/inFlightRequests';
import { createWholeResponseCache } from './cache/wholeResponseCache';
import { apolloOptions } from './security/apolloOptions';
import { operationalRoutes, startMetricsServer } from './http/operationalRoutes';
import { createUnknownValueReporter } from './mapping/unknownValues';
import { fanOutEvents } from './observability/events';
import type { Logger } from './observability/logger';
import { createMetrics, type GatewayMetrics } from './observability/metrics';
import { createOperationPlugin } from './observability/operationPlugin';
import { Readiness } from './observability/readiness';
import { createRequestContextFactory } from './http/requestContext';
import { DocumentStore } from './graphql/documentStore';
import { shareVerdict, storeVerdict } from './cache/reusePolicy';
import { CseHttpClient } from './upstream/CseHttpClient';
import { cacheControlPlugins, recordCacheHints } from './graphql/plugins/cacheHints';
import type { CacheStats } from './cache/UpstreamAnswerCache';
import { createUpstreamDispatcher } from './upstream/dispatcher';
import type { GraphQLSchema } from 'graphql';
import { serveSubscriptions } from './subscriptions/serveSubscriptions';
import { routerFetchStatusPlugin } from './graphql/federation/routerFetchStatus';
import { graphiqlAssetRoutes } from './graphql/graphiql';
import type { SubscriptionServer } from './subscriptions/subscriptionServer';
import { createSharedState } from './redis/sharedState';

export interface GatewayDependencies {
  logger: Logger;
  /** The upstream base URL (the config's, or the embedded simulator's). */
  endpoint: string;
  /** Injected in tests; by default one keep-alive pool is made for the upstream. */
  dispatcher?: Dispatcher;
  /** The embedded simulator's demo token, preset in the explorer; only ever the simulator's (see ExplorerOptions). */
  demoToken?: string;
}

export interface RunningGateway {
  /** e.g. `http://127.0.0.1:4000/graphql` */
  readonly url: string;
  readonly port: number;
  /** Whether the instance should get traffic (/readyz). */
  readonly readiness: Readiness;
  /** This gateway's metrics registry (/metrics). */
  readonly metrics: GatewayMetrics;
  /** METRICS_PORT's /metrics URL; undefined when /metrics is served beside /graphql. */
  readonly metricsUrl: string | undefined;
  /** The GraphQL-over-WebSocket server: sockets and subscriptions open now. */
  readonly subscriptions: Pick<SubscriptionServer, 'sockets' | 'active' | 'pendingBytes' | 'sendsWaiting'>;
  /** The upstream response cache's size against its bounds. */
  upstreamCacheStats(): CacheStats;
  /**
   * Graceful stop: readiness turns false, then (after SHUTDOWN_DELAY_MS) new connections are
   * refused while in-flight operations finish, for at most SHUTDOWN_TIMEOUT_MS; then the
   * upstream pool closes. Safe to call more than once.
   */
  close(): Promise<void>;
}

/**
 * Builds the gateway from a validated config and starts listening. A start that fails (a port
 * in use, a bad manifest, Apollo failing to start) undoes what it had started — the listeners,
 * the upstream pool it made, the Redis connections — before it rejects, so a caller that goes on
 * (a test, an embedding process) is left with no open handle.
 */
export async function startGateway(config: GatewayConfig, deps: GatewayDependencies): Promise<RunningGateway> {
  const undo: Array<() => Promise<void>> = [];
  try {
    return await start(config, deps, undo);
  } catch (error) {
    // Last started, first undone; each step on its own, so one failing does not keep the others open.
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw error;
  }
}

async function start(config: GatewayConfig, deps: GatewayDependencies, undo: Array<() => Promise<void>>): Promise<RunningGateway> {
  const { logger } = deps;
  for (const warning of config.warnings) logger.warn(warning);
  warnAboutDescriptors(config, logger);
  const { upstream, http } = config;
  const ownsDispatcher = deps.dispatcher === undefined;
  const dispatcher = deps.dispatcher ?? createUpstreamDispatcher({ connections: upstream.poolConnections, timeoutMs: upstream.resilience.attemptTimeoutMs });
  if (ownsDispatcher) undo.push(() => dispatcher.destroy());
  const metrics = createMetrics({ maxOperationNames: config.observability.metricsMaxOperations });
  const readiness = new Readiness();
  // With REDIS_URL, what the replicas share; readiness never depends on it (Redis is optional at run time).
  const shared = createSharedState(config, logger, metrics.registry);
  if (shared !== undefined) undo.push(() => shared.close());
  const services: ContextServices = {
    http: new CseHttpClient({
      endpoint: deps.endpoint,
      dispatcher,
      events: fanOutEvents(metrics.events, readiness.events),
      resilience: upstream.resilience,
      cache: config.cache,
      credentials: upstream.credentials,
      ...(shared === undefined ? {} : { shared: shared.upstream }),
    }),
    paging: upstream.paging,
    pageBase: upstream.pageBase,
    requestConcurrency: upstream.requestConcurrency,
    reportUnknown: createUnknownValueReporter((fields, message) => logger.warn(fields, message)),
    observeBatch: metrics.observeBatch,
    engineListThreshold: config.limits.entities.engineListThreshold,
    engineListMaxPages: config.limits.entities.maxListPages,
    cacheTtls: config.cache.ttls,
    budget: config.limits.budget,
  };
  const schema = recordCacheHints(buildGatewaySchema());
  const security = apolloOptions(config, schema, new DocumentStore(config.limits.documentCacheMaxBytes), { demoToken: deps.demoToken }, shared?.persistedQueries);
  const apollo = createApollo(config, logger, metrics, schema, security.options);
  const requests = createRequestContextFactory(services, upstream.projectId);
  const cors = corsPolicy(config);
  const httpServer = createHttpServer({
    apollo,
    context: requests.contextFor,
    credentialsOf: requests.credentialsOf,
    wholeResponseCache: createWholeResponseCache<GatewayContext>({
      ttls: config.cache.ttls,
      maxBytes: config.cache.wholeResponseMaxBytes,
      credentialsOf: requests.credentialsOf,
      generationOf: (credentials) => services.http.cacheGenerationFor(credentials),
      storable: (context) => storeVerdict(context.facts, context.cachePolicy),
      onLookup: (hit) => metrics.observeWholeResponseCache(hit !== undefined),
    }),
    inFlight: createInFlightRequests<GatewayContext>((context) => shareVerdict(context.facts)),
    http,
    cors: createCorsHandler(cors),
    // With METRICS_PORT, /metrics is served there only.
    routes: {
      ...operationalRoutes(readiness, http.metricsPort === undefined ? metrics.registry : undefined),
      ...(http.explorer === 'graphiql' ? graphiqlAssetRoutes() : {}),
    },
    logger,
    metrics,
    // REQUEST_TIMEOUT_MS bounds the whole operation: every upstream attempt and retry is cut off with it.
    operationTimeoutMs: config.limits.operationTimeoutMs,
  });
  const subscriptions = serveSubscriptions(config, { httpServer, schema, admission: security.admission, cors, services, logger, metrics, fleet: shared?.pollers });
  // Sockets first (1001 to each, then their pollers stop), beside the HTTP drain.
  apollo.addPlugin(subscriptions.drainPlugin);
  apollo.addPlugin(ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: http.shutdownTimeoutMs }));
  await apollo.start();
  // Its drain plugins close the WebSocket server and the HTTP server (listening or not yet).
  undo.push(() => apollo.stop());

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(http.port, http.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const metricsServer = http.metricsPort === undefined ? undefined : await startMetricsServer(metrics.registry, http.metricsPort, http.host);
  const address = httpServer.address() as AddressInfo;
  const host = http.host === undefined || http.host === '0.0.0.0' || http.host === '::' ? 'localhost' : http.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}${GRAPHQL_PATH}`;
  readiness.markServing();

  let closing: Promise<void> | undefined;
  const stop = async () => {
    readiness.markShuttingDown();
    // Time for load balancers to see /readyz fail before connections are refused.
    if (http.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, http.shutdownDelayMs));
    await apollo.stop(); // the drain plugin: refuse new connections, let in-flight requests finish (bounded)
    await metricsServer?.close();
    if (ownsDispatcher) await closeDispatcher(dispatcher, http.shutdownTimeoutMs);
    await shared?.close();
  };

  return {
    url,
    port: address.port,
    readiness,
    metrics,
    subscriptions: subscriptions.server,
    metricsUrl: metricsServer?.url,
    upstreamCacheStats: () => services.http.cacheStats,
    close() {
      closing ??= stop();
      return closing;
    },
  };
}


/**
 * Apollo Server over the subgraph schema, with the security options (limits, admission, Sandbox,
 * persisted queries …), our executor and error masking. Fetching fields record their cache hints
 * (see cacheControlPlugins: no per-field hooks).
 */
function createApollo(
  config: GatewayConfig,
  logger: Logger,
  metrics: GatewayMetrics,
  schema: GraphQLSchema,
  security: ReturnType<typeof apolloOptions>['options'],
): ApolloServer<GatewayContext> {
  return new ApolloServer<GatewayContext>({
    // Our executor (graphql-jit or graphql-js, see createOperationExecutor), through Apollo's
    // gateway interface, its one way to plug in an executor.
    gateway: executionGateway(
      schema,
      createOperationExecutor(schema, {
        ...config.limits.executor,
        onExecuted: metrics.observeExecution,
        onCompiled: metrics.observeCompile,
        onUnrepresentable: ({ path, type }, contextValue) =>
          logger.warn({ requestId: (contextValue as GatewayContext).record?.requestId, path, type }, 'upstream value the field type cannot represent'),
      }),
    ),
    ...security,
    formatError: createFormatError(logger),
    includeStacktraceInErrorResponses: config.nodeEnv === 'development',
    // Apollo pretty-prints responses by default: more bytes and CPU for no reader's benefit.
    stringifyResult: (result) => JSON.stringify(result),
    logger,
    plugins: [createOperationPlugin<GatewayContext>(), ...cacheControlPlugins<GatewayContext>(), ...security.plugins, routerFetchStatusPlugin()],
    // Signals are main.ts's: Apollo's own handler would re-raise the signal after stopping, and
    // the process would end killed by it instead of exiting 0 after a graceful stop.
    stopOnTerminationSignals: false,
  });
}

/** Descriptors kept free for the upstream pool's sockets, log output, files and the like. */
const DESCRIPTOR_MARGIN = 64;

/** HTTP_MAX_CONNECTIONS only protects the process while it is below the descriptor limit. */
function warnAboutDescriptors({ http, upstream }: GatewayConfig, logger: Logger): void {
  const limit = openFileLimit();
  const httpMaxConnections = http.connections.maxConnections;
  if (limit !== undefined && httpMaxConnections + upstream.poolConnections + DESCRIPTOR_MARGIN > limit) {
    logger.warn(
      { openFileLimit: limit, httpMaxConnections, cseConnections: upstream.poolConnections },
      'HTTP_MAX_CONNECTIONS + CSE_CONNECTIONS is close to or above the open-file limit (ulimit -n): lower HTTP_MAX_CONNECTIONS or raise the limit',
    );
  }
}

/**
 * Closes the upstream pool, letting requests still in it finish; past `timeoutMs` (they belong to
 * operations already cut off by the drain) the pool is destroyed instead.
 */
async function closeDispatcher(dispatcher: Dispatcher, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    if ((await Promise.race([dispatcher.close().then(() => 'closed' as const), timedOut])) === 'timeout') await dispatcher.destroy();
  } finally {
    clearTimeout(timer);
  }
}
