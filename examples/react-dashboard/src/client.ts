import { ApolloClient, ApolloLink, HttpLink } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import { createCache } from './cache';

/**
 * Where the gateway is: `VITE_GATEWAY_URL` at build time, else `/graphql` on the page's own
 * origin (the dev server and `vite preview` proxy it to the gateway, see vite.config.ts), so the
 * browser needs no CORS and the WebSocket goes to the same place.
 */
export function gatewayUrl(): URL {
  const configured = import.meta.env.VITE_GATEWAY_URL;
  return new URL(configured !== undefined && configured !== '' ? configured : '/graphql', window.location.href);
}

/**
 * One client per token: queries over HTTP with `X-Auth-Token`, subscriptions over a WebSocket to
 * the same URL with the token in `connection_init` (a browser cannot set headers on a WebSocket).
 * A new token makes a new client, so nothing cached under the old one is shown for the new one.
 */
export function createGatewayClient(token: string): ApolloClient {
  const url = gatewayUrl();
  const headers = { 'X-Auth-Token': token };
  const http = new HttpLink({ uri: url.href, headers });
  const wsUrl = new URL(url);
  wsUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  // Lazy: the socket opens with the first subscription and closes a moment after the last.
  const ws = new GraphQLWsLink(createClient({ url: wsUrl.href, connectionParams: headers, lazy: true }));
  return new ApolloClient({
    link: ApolloLink.split(
      ({ query }) => {
        const definition = getMainDefinition(query);
        return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
      },
      ws,
      http,
    ),
    cache: createCache(),
  });
}
