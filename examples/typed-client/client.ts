import { ApolloClient, HttpLink } from '@apollo/client';
import { createCache } from './cache';

export interface GatewayClientOptions {
  /** The gateway's GraphQL endpoint, e.g. `http://localhost:4000/graphql`. */
  readonly url: string;
  /** The caller's IAM token. The gateway forwards it upstream; it has no credentials of its own. */
  readonly token: string;
  /** The CSE project; without it the gateway uses its `CSE_PROJECT_ID`. */
  readonly projectId?: string;
}

/**
 * An Apollo Client for the gateway: the caller's token in `X-Auth-Token` on every request, and
 * the cache of cache.ts. Requests go through the platform's `fetch` (global in Node 20 and in
 * browsers). A browser app that renews its token would set the header per request instead
 * (`SetContextLink` from `@apollo/client/link/context`); a fixed token is enough here.
 *
 * Call `client.stop()` when done: it ends every watched query and in-flight request.
 */
export function createGatewayClient(options: GatewayClientOptions): ApolloClient {
  const headers: Record<string, string> = { 'X-Auth-Token': options.token };
  if (options.projectId !== undefined) headers['X-Project-Id'] = options.projectId;
  return new ApolloClient({
    link: new HttpLink({ uri: options.url, headers }),
    cache: createCache(),
  });
}
