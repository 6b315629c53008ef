import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { Server as HttpServer } from 'node:http';
import type { GatewayConfig } from '../config/loadConfig';
import { createContext, type ContextServices, type GatewayContext } from '../graphql/context';
import { createFormatError } from '../graphql/formatError';
import type { CorsPolicy } from '../http/cors';
import { GRAPHQL_PATH } from '../http/httpServer';
import { credentialsFromHeaders } from '../http/identity';
import type { Logger } from '../observability/logger';
import type { GatewayMetrics } from '../observability/metrics';
import type { Admission } from '../security/admission';
import type { WatchFleet } from './EngineWatch';
import { createOriginCheck } from './originPolicy';
import { SubscriptionGroups } from './SubscriptionGroups';
import { Watches } from './Watches';
import { socketFormatError, startSubscriptionServer, type SubscriptionServer } from './subscriptionServer';

export interface SubscriptionWiring {
  readonly httpServer: HttpServer;
  readonly schema: GraphQLSchema;
  /** The checks every operation meets, HTTP's too. */
  readonly admission: Admission;
  /** Origins a browser may open a socket from: the ones CORS allows. */
  readonly cors: CorsPolicy;
  readonly services: ContextServices;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** With REDIS_URL: the fleet's one poller per scope and engine (undefined: this replica polls for itself). */
  readonly fleet: WatchFleet | undefined;
}

/**
 * Subscriptions over WebSocket on the HTTP server's port and path, from the settings: the watches
 * (pollers), the groups of identical subscriptions and the socket server, and the Apollo
 * plugin that drains them when the gateway stops.
 */
export function serveSubscriptions(
  config: GatewayConfig,
  { httpServer, schema, admission, cors, services, logger, metrics, fleet }: SubscriptionWiring,
): { readonly server: SubscriptionServer; readonly drainPlugin: ApolloServerPlugin<GatewayContext> } {
  const maxPendingEvents = maxPendingEventsOf(config);
  const watches = new Watches({
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
    metrics: metrics.subscriptions,
    fleet,
  });
  // Only the socket's contexts have watches: over HTTP the Subscription resolvers have none.
  const socketServices: ContextServices = { ...services, watches };
  const formatError = socketFormatError(createFormatError(logger));
  const server = startSubscriptionServer({
    httpServer,
    path: GRAPHQL_PATH,
    schema,
    groups: new SubscriptionGroups({
      schema,
      // Each event's execution gets a context of its own (fresh loaders), bounded like an HTTP operation.
      contextFor: (credentials) => createContext(socketServices, { credentials, deadline: Date.now() + config.limits.operationTimeoutMs, refusal: {} }),
      formatError,
    }),
    admission,
    credentialsOf: (header) => credentialsFromHeaders(header, config.upstream.projectId),
    originAllowed: createOriginCheck(cors),
    limits: {
      perConnection: config.subscriptions.maxPerConnection,
      total: config.subscriptions.maxTotal,
      maxBufferedBytes: config.subscriptions.maxBufferedBytes,
      maxPendingResults: maxPendingEvents,
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
  return { server, drainPlugin: drainSubscriptions(server, watches, config.http.shutdownTimeoutMs) };
}

/**
 * Engine events one subscriber keeps pending at most: every job of the pages polled, created and
 * changed (the conflation keys), so a slow reader loses no job, only intermediate states.
 */
function maxPendingEventsOf(config: GatewayConfig): number {
  return 2 * config.upstream.paging.maxPageSize * config.subscriptions.listPages;
}

/** Apollo's drain: WebSockets closed with 1001 (bounded by the grace), then every poller stopped. */
function drainSubscriptions(server: SubscriptionServer, watches: Watches, graceMs: number): ApolloServerPlugin<GatewayContext> {
  return {
    async serverWillStart() {
      return {
        async drainServer() {
          await server.close(graceMs);
          watches.close();
        },
      };
    },
  };
}
