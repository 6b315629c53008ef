import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import type { GatewayConfig } from './config/loadConfig';
import type { ContextServices, GatewayContext } from './graphql/context';
import { createFormatError } from './graphql/formatError';
import { createOperationExecutor, executionPlugin } from './graphql/execution/operationExecutor';
import { answerStatusPlugin } from './graphql/answerStatus';
import { buildGatewaySchema } from './graphql/buildSchema';
import { locateErrorsByToken } from './graphql/errorLocations';
import { createHttpServer, GRAPHQL_PATH, listeningUrl, startMetricsServer, warnOfOpenFileLimit } from './http/httpServer';
import { corsPolicy, createCorsHandler } from './http/cors';
import { UnsentAnswers } from './http/unsentAnswers';
import { AnswersBeingMade } from './graphql/execution/answersBeingMade';
import { answerBounds } from './graphql/execution/operationBudget';
import { createInFlightRequests } from './cache/inFlightRequests';
import { createWholeResponseCache } from './cache/wholeResponseCache';
import { apolloOptions } from './security/apolloOptions';
import { operationalRoutes } from './http/operationalRoutes';
import { createUnknownValueReporter } from './mapping/unknownValues';
import { fanOutEvents } from './observability/events';
import type { Logger } from './observability/logger';
import { createMetrics } from './observability/metrics';
import { createOperationPlugin, recordOperationErrors } from './observability/operationPlugin';
import { Readiness } from './observability/readiness';
import { createRequestContextFactory } from './http/requestContext';
import { DocumentStore } from './graphql/documentStore';
import { shareVerdict, storeVerdict } from './cache/reusePolicy';
import { CseHttpClient } from './upstream/CseHttpClient';
import { cacheControlPlugins, recordCacheHints } from './graphql/plugins/cacheHints';
import { createUpstreamDispatcher } from './upstream/exchange';
import { serveSubscriptions } from './subscriptions/subscriptionServer';
import { graphiqlAssetRoutes } from './graphql/graphiql';
import { stringifyAnswer, writeInTurnsIfLarge } from './http/answerText';
import { persistedQueryRegistration } from './security/persistedQueries';

type SharedStateModule = typeof import('./redis/sharedState');

export { ignoreAbandonedBranches } from './graphql/execution/abandonedBranches';

export interface GatewayDependencies {
  logger: Logger;
  endpoint: string;
  dispatcher?: Dispatcher;
  /** The embedded simulator's, preset in the explorer: never a real one. */
  demoToken?: string;
}

export type RunningGateway = Awaited<ReturnType<typeof startGateway>>;

/** Past the stop itself, for the simulator's close and the last log lines. */
const LAST_STEPS_MS = 5000;

/**
 * How long after SIGTERM the process has exited, at the latest (main.ts holds it to this): the
 * delay, then the drain and the upstream pool's close, each bounded by SHUTDOWN_TIMEOUT_MS, then
 * the last steps. An orchestrator's grace period must exceed it (docs/operating.md#shutdown).
 */
export function shutdownDeadlineMs(http: Pick<GatewayConfig['http'], 'shutdownDelayMs' | 'shutdownTimeoutMs'>): number {
  return http.shutdownDelayMs + 2 * http.shutdownTimeoutMs + LAST_STEPS_MS;
}

/** A start that fails undoes what it had started, so a caller that goes on is left with no open handle. */
export async function startGateway(config: GatewayConfig, deps: GatewayDependencies) {
  const undo: Array<() => Promise<void>> = [];
  try {
    return await start(config, deps, undo);
  } catch (error) {
    // Each step on its own, so one failing does not keep the others open.
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw error;
  }
}

async function start(config: GatewayConfig, deps: GatewayDependencies, undo: Array<() => Promise<void>>) {
  const { logger } = deps;
  const { upstream, http, limits } = config;
  for (const warning of config.warnings) logger.warn(warning);
  warnOfOpenFileLimit(config, logger);
  const ownsDispatcher = deps.dispatcher === undefined;
  const dispatcher =
    deps.dispatcher ?? createUpstreamDispatcher(upstream.poolConnections, upstream.resilience.attemptTimeoutMs);
  if (ownsDispatcher) undo.push(() => dispatcher.destroy());
  const metrics = createMetrics({ maxOperationNames: config.observability.metricsMaxOperations });
  const readiness = new Readiness();
  // Required only with REDIS_URL (most processes never load ioredis); readiness never depends on it.
  const redis = config.redis.url === undefined ? undefined : (require('./redis/sharedState') as SharedStateModule);
  const shared = redis?.createSharedState(config, logger, metrics.registry);
  if (shared !== undefined) undo.push(() => shared.close());
  const services: ContextServices = {
    config,
    answers: new AnswersBeingMade(answerBounds(config.limits.budget, upstream.resilience)),
    http: new CseHttpClient({
      endpoint: deps.endpoint,
      dispatcher,
      events: fanOutEvents(metrics.events, readiness.events),
      resilience: upstream.resilience,
      cache: config.cache,
      credentials: upstream.credentials,
      secondLevel: shared?.upstream.answers,
    }),
    reportUnknown: createUnknownValueReporter((fields, message) => logger.warn(fields, message)),
    observeBatch: metrics.observeBatch,
  };
  locateErrorsByToken();
  const schema = recordCacheHints(buildGatewaySchema());
  const documents = new DocumentStore(limits.documentCacheMaxBytes);
  const security = apolloOptions(config, schema, documents, deps.demoToken, shared?.persistedQueries);
  const executor = createOperationExecutor(schema, {
    ...limits.executor,
    onExecuted: metrics.observeExecution,
    onCompiled: metrics.observeCompile,
    onRerun: (context) => (context as GatewayContext).budget.answerAgain(),
    hideSuggestions: security.admission.hideSuggestions,
    onUnrepresentable: ({ path, type }, context) => {
      const requestId = (context as GatewayContext).record?.requestId;
      logger.warn({ requestId, path, type }, 'upstream value the field type cannot represent');
    },
  });
  const formatError = createFormatError(logger);
  const includeStacktraceInErrorResponses = config.nodeEnv === 'development';
  const apollo = new ApolloServer<GatewayContext>({
    schema,
    ...security.options,
    formatError,
    includeStacktraceInErrorResponses,
    // Compact (Apollo pretty-prints by default: more bytes and CPU for no reader); a large answer in turns.
    stringifyResult: stringifyAnswer,
    logger,
    plugins: [
      // First: Apollo asks the plugins in order for a response, until one gives it.
      executionPlugin<GatewayContext>(executor, {
        formatError,
        includeStacktraceInErrorResponses,
        didEncounterErrors: recordOperationErrors,
        didExecute: ({ budget }, data) => writeInTurnsIfLarge(data, budget),
      }),
      createOperationPlugin<GatewayContext>(),
      ...cacheControlPlugins<GatewayContext>(),
      ...security.options.plugins,
      persistedQueryRegistration<GatewayContext>((credentials) => services.http.isStranger(credentials), security.registry),
      answerStatusPlugin(),
    ],
    // main.ts's: Apollo's handler re-raises the signal after stopping, so the process would not exit 0.
    stopOnTerminationSignals: false,
  });
  const requests = createRequestContextFactory(services, upstream.projectId);
  const cors = corsPolicy(config);
  const httpServer = createHttpServer({
    apollo,
    context: requests.contextFor,
    credentialsOf: requests.credentialsOf,
    wholeResponseCache: createWholeResponseCache<GatewayContext>({
      ttls: config.cache.ttls,
      maxBytes: config.cache.wholeResponseMaxBytes,
      generationOf: (credentials) => services.http.cacheGenerationFor(credentials),
      storable: (context) => storeVerdict(context.facts),
      onLookup: (hit) => metrics.observeWholeResponseCache(hit !== undefined),
    }),
    inFlight: createInFlightRequests<GatewayContext>((context) => shareVerdict(context.facts)),
    // Two answers as large as an operation may make, unread at once, per caller.
    unsent: new UnsentAnswers(2 * config.limits.budget.maxUpstreamBytes, (credentials) => services.http.isStranger(credentials)),
    http,
    cors: createCorsHandler(cors),
    // With METRICS_PORT, /metrics is served there only.
    routes: {
      ...operationalRoutes(readiness, http.metricsPort === undefined ? metrics.registry : undefined),
      ...(http.explorer === 'graphiql' ? graphiqlAssetRoutes() : {}),
    },
    logger,
    metrics,
    operationTimeoutMs: limits.operationTimeoutMs,
  });
  const { admission } = security;
  const wiring = { httpServer, schema, admission, cors, services, logger, metrics, fleet: shared?.pollers };
  const subscriptions = serveSubscriptions(config, wiring);
  // Sockets first (1001 to each, then their pollers stop), beside the HTTP drain.
  apollo.addPlugin(subscriptions.drainPlugin);
  const stopGracePeriodMillis = http.shutdownTimeoutMs;
  apollo.addPlugin(ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis }));
  await apollo.start();
  // Its drain plugins close the WebSocket and HTTP servers, listening or not yet.
  undo.push(() => apollo.stop());

  // Rejects on an 'error' (a port in use) before 'listening'.
  await once(httpServer.listen(http.port, http.host), 'listening');
  const { metricsPort } = http;
  const metricsServer =
    metricsPort === undefined ? undefined : await startMetricsServer(metrics.registry, metricsPort, http);
  const { port } = httpServer.address() as AddressInfo;
  readiness.markServing();

  let closing: Promise<void> | undefined;
  const stop = async () => {
    readiness.markShuttingDown();
    await sleep(http.shutdownDelayMs);
    await apollo.stop();
    await metricsServer?.close();
    // Requests still in the pool belong to operations the drain cut off.
    if (ownsDispatcher) {
      const timeout = sleep(http.shutdownTimeoutMs, 'timeout', { ref: false });
      if ((await Promise.race([dispatcher.close(), timeout])) === 'timeout') await dispatcher.destroy();
    }
    await shared?.close();
  };

  return {
    url: listeningUrl(http.host, port, GRAPHQL_PATH),
    port,
    readiness,
    metrics,
    /** Undefined when /metrics is served beside /graphql. */
    metricsUrl: metricsServer?.url,
    subscriptions: subscriptions.server,
    upstreamCacheStats: () => services.http.cacheStats,
    operationsInFlight: () => httpServer.operationsInFlight(),
    /** Graceful stop (docs/operating.md); safe to call more than once. */
    close: () => (closing ??= stop()),
  };
}
