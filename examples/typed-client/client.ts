import { ApolloClient, ApolloLink, HttpLink } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import { createCache } from './cache';

export interface GatewayClientOptions {
  /** The gateway's GraphQL endpoint, e.g. `http://localhost:4000/graphql`. */
  readonly url: string;
  /** The caller's IAM token. The gateway forwards it upstream; it has no credentials of its own. */
  readonly token: string;
  /** The CSE project; without it the gateway uses its `CSE_PROJECT_ID`. */
  readonly projectId?: string;
  /**
   * Subscriptions: the WebSocket implementation where the platform has none (Node 20: the `ws`
   * package; browsers and Node 22 have a global WebSocket). Subscriptions go to the same URL over
   * `graphql-transport-ws`, the token in the `connection_init` payload (browsers cannot set
   * headers on a WebSocket).
   */
  readonly webSocketImpl?: unknown;
}

/**
 * An Apollo Client for the gateway: the caller's token in `X-Auth-Token` on every request, and
 * the cache of cache.ts. Requests go through the platform's `fetch` (global in Node 20 and in
 * browsers). A browser app that renews its token would set the header per request instead
 * (`SetContextLink` from `@apollo/client/link/context`); a fixed token is enough here.
 *
 * Queries go over HTTP, subscriptions over a WebSocket to the same URL (ApolloLink.split).
 *
 * Call `client.stop()` when done: it ends every watched query and in-flight request.
 */
export function createGatewayClient(options: GatewayClientOptions): ApolloClient {
  const headers: Record<string, string> = { 'X-Auth-Token': options.token };
  if (options.projectId !== undefined) headers['X-Project-Id'] = options.projectId;
  const http = new HttpLink({ uri: options.url, headers });
  // Without a WebSocket (Node 20 and no `ws` given) the client serves queries only.
  if (options.webSocketImpl === undefined && typeof globalThis.WebSocket === 'undefined') return new ApolloClient({ link: http, cache: createCache() });
  // Lazy: the socket opens with the first subscription and closes a moment after the last.
  const ws = new GraphQLWsLink(createClient({ url: options.url.replace(/^http/, 'ws'), connectionParams: headers, webSocketImpl: options.webSocketImpl, lazy: true }));
  return new ApolloClient({
    link: ApolloLink.split(({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    }, ws, http),
    cache: createCache(),
  });
}
