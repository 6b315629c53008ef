import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { Server as HttpServer } from 'node:http';
import type { GatewayConfig } from '../config/loadConfig';
import { createContext, type ContextServices, type GatewayContext } from '../graphql/context';
import type { DocumentStore } from '../graphql/documentStore';
import { createFormatError } from '../graphql/formatError';
import { apolloValidationRules } from '../graphql/validatedDocuments';
import type { CorsPolicy } from '../http/cors';
import { GRAPHQL_PATH } from '../http/httpServer';
import { credentialsFromHeaders } from '../http/identity';
import type { Logger } from '../observability/logger';
import type { GatewayMetrics } from '../observability/metrics';
import { createMemoizedEstimate } from '../security/estimateUpstreamCalls';
import type { exposureOptions } from '../security/exposureOptions';
import type { WatchFleet } from './EngineWatch';
import { LiveJobs } from './LiveJobs';
import { createOriginCheck } from './originPolicy';
import { SubscriptionGroups } from './SubscriptionGroups';
import { socketFormatError, startSubscriptionServer, type SubscriptionServer } from './subscriptionServer';

export interface SubscriptionWiring {
  readonly httpServer: HttpServer;
  readonly schema: GraphQLSchema;
  /** The HTTP endpoint's exposure options: subscription documents meet the same limits and safelist. */
  readonly exposure: ReturnType<typeof exposureOptions>;
  /** Origins a browser may open a socket from: the ones CORS allows. */
  readonly cors: CorsPolicy;
  readonly services: ContextServices;
  /** Apollo's document store: validated documents by the hash of their text. */
  readonly documents: DocumentStore;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** With REDIS_URL: the fleet's one poller per scope and engine (undefined: this replica polls for itself). */
  readonly fleet: WatchFleet | undefined;
}

/**
 * Subscriptions over WebSocket on the HTTP server's port and path, from the settings: the live
 * jobs (pollers), the groups of identical subscriptions and the socket server, and the Apollo
 * plugin that drains them when the gateway stops.
 */
export function serveSubscriptions(
  config: GatewayConfig,
  { httpServer, schema, exposure, cors, services, documents, logger, metrics, fleet }: SubscriptionWiring,
): { readonly server: SubscriptionServer; readonly drainPlugin: ApolloServerPlugin<GatewayContext> } {
  const maxPendingEvents = maxPendingEventsOf(config);
  const live = new LiveJobs({
    http: services.http,
    pageBase: config.upstream.pageBase,
    // The most jobs one list call can bring: the fewest calls for the most watched jobs.
    pageSize: config.upstream.paging.maxPageSize,
    listPages: config.subscriptions.listPages,
    pollMs: config.subscriptions.pollMs,
    maxBackoffMs: config.subscriptions.maxBackoffMs,
    pollTimeoutMs: config.limits.operationTimeoutMs,
    detailsConcurrency: config.upstream.requestConcurrency,
    maxCallsPerPoll: config.subscriptions.maxCallsPerPoll,
    maxWatchedPerScope: config.subscriptions.maxWatchedPerScope,
    maxPendingEvents,
    events: { poll: metrics.subscriptions.poll },
    fleet,
    liveEvents: { pollers: metrics.subscriptions.pollers, conflated: metrics.subscriptions.conflated },
  });
  // Only the socket's contexts have live jobs: over HTTP the Subscription resolvers have none.
  const liveServices: ContextServices = { ...services, live };
  const formatError = socketFormatError(createFormatError(logger));
  const server = startSubscriptionServer({
    httpServer,
    path: GRAPHQL_PATH,
    schema,
    groups: new SubscriptionGroups({
      schema,
      // Each event's execution gets a context of its own (fresh loaders), bounded like an HTTP operation.
      contextFor: (credentials) => createContext(liveServices, { credentials, deadline: Date.now() + config.limits.operationTimeoutMs, refusal: {} }),
      formatError,
      maxPendingResults: maxPendingEvents,
    }),
    admission: {
      schema,
      rules: apolloValidationRules(exposure.validationRules, exposure.introspection),
      maxTokens: config.limits.maxTokens,
      documents,
      safelisted: exposure.safelisted,
      estimate: createMemoizedEstimate(schema, { ...config.upstream.paging, ...config.limits.entities }),
      maxUpstreamCalls: config.limits.maxUpstreamCalls,
      maxItemsPerEvent: config.subscriptions.maxItemsPerEvent,
    },
    credentialsOf: (header) => credentialsFromHeaders(header, config.upstream.projectId),
    originAllowed: createOriginCheck(cors),
    limits: {
      perConnection: config.subscriptions.maxPerConnection,
      total: config.subscriptions.maxTotal,
      maxBufferedBytes: config.subscriptions.maxBufferedBytes,
      initTimeoutMs: config.subscriptions.initTimeoutMs,
      keepAliveMs: config.subscriptions.keepAliveMs,
      maxMessageBytes: config.http.maxBodyBytes,
      idleTimeoutMs: config.subscriptions.idleTimeoutMs,
      maxSockets: config.subscriptions.maxSockets,
      maxSocketsPerAddress: config.subscriptions.maxSocketsPerAddress,
    },
    formatError,
    metrics: metrics.subscriptions,
    logger,
  });
  return { server, drainPlugin: drainSubscriptions(server, live, config.http.shutdownTimeoutMs) };
}

/**
 * Engine events one subscriber keeps pending at most: every job of the pages polled, created and
 * changed (the conflation keys), so a slow reader loses no job, only intermediate states.
 */
function maxPendingEventsOf(config: GatewayConfig): number {
  return 2 * config.upstream.paging.maxPageSize * config.subscriptions.listPages;
}

/** Apollo's drain: WebSockets closed with 1001 (bounded by the grace), then every poller stopped. */
function drainSubscriptions(server: SubscriptionServer, live: LiveJobs, graceMs: number): ApolloServerPlugin<GatewayContext> {
  return {
    async serverWillStart() {
      return {
        async drainServer() {
          await server.close(graceMs);
          live.close();
        },
      };
    },
  };
}
