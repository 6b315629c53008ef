import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import type { GatewayConfig } from './config/loadConfig';
import { createContext, type ContextServices, type GatewayContext } from './graphql/context';
import { createFormatError } from './graphql/formatError';
import { resolvers } from './graphql/resolvers';
import { loadTypeDefs } from './graphql/schema';
import { createHttpServer, GRAPHQL_PATH } from './http/httpServer';
import { credentialsFromHeaders } from './http/identity';
import { createUnknownValueReporter } from './mapping/unknownValues';
import type { Logger } from './observability/logger';
import { CseHttpClient } from './upstream/CseHttpClient';
import { createUpstreamDispatcher } from './upstream/dispatcher';

export interface GatewayDependencies {
  logger: Logger;
  /** The upstream base URL (the config's, or the embedded simulator's). */
  endpoint: string;
  /** Injected in tests; by default one keep-alive pool is made for the upstream. */
  dispatcher?: Dispatcher;
}

export interface RunningGateway {
  /** e.g. `http://127.0.0.1:4000/graphql` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Request bodies larger than this are refused (413) before parsing. */
const MAX_REQUEST_BODY_BYTES = 256 * 1024;

/** Builds the gateway from a validated config and starts listening. */
export async function startGateway(config: GatewayConfig, deps: GatewayDependencies): Promise<RunningGateway> {
  const { logger } = deps;
  const ownsDispatcher = deps.dispatcher === undefined;
  const dispatcher = deps.dispatcher ?? createUpstreamDispatcher();
  const services: ContextServices = {
    http: new CseHttpClient({ endpoint: deps.endpoint, dispatcher }),
    paging: { maxPageSize: config.cseMaxPageSize, defaultPageSize: Math.min(20, config.cseMaxPageSize) },
    pageBase: config.csePageBase,
    requestConcurrency: config.cseRequestConcurrency,
    reportUnknown: createUnknownValueReporter((fields, message) => logger.warn(fields, message)),
  };

  const apollo = new ApolloServer<GatewayContext>({
    typeDefs: loadTypeDefs(),
    resolvers,
    formatError: createFormatError(logger),
    includeStacktraceInErrorResponses: config.nodeEnv === 'development',
    logger,
  });

  const httpServer = createHttpServer({
    apollo,
    maxBodyBytes: MAX_REQUEST_BODY_BYTES,
    context: async (request, signal) => {
      const credentials = credentialsFromHeaders((name) => {
        const value = request.headers[name];
        return Array.isArray(value) ? value[0] : value;
      }, config.cseProjectId);
      return createContext(services, { credentials, signal });
    },
    onError: (error) => logger.error({ err: error }, 'HTTP request failed'),
  });
  apollo.addPlugin(ApolloServerPluginDrainHttpServer({ httpServer }));
  await apollo.start();

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const address = httpServer.address() as AddressInfo;
  const host = config.host === undefined || config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}${GRAPHQL_PATH}`;

  return {
    url,
    port: address.port,
    async close() {
      await apollo.stop();
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}
