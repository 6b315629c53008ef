import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';

/** What a browser opening `/graphql` finds in the Sandbox editor: a real dashboard query. */
export const SANDBOX_EXAMPLE_OPERATION = `# Send your IAM token in the X-Auth-Token header (Headers tab below).
query Dashboard {
  engines(first: 5) {
    totalCount
    nodes {
      id
      name
      status
      latestJob { id type status startTime }
      jobs(first: 3) {
        nodes { id type status durationMs tasks { name status order } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
`;

/** The header the gateway needs on every operation, preset in Sandbox for the user to fill in. */
export const SANDBOX_HEADERS: Readonly<Record<string, string>> = { 'X-Auth-Token': '<your token>' };

/**
 * The landing page: the embedded Apollo Sandbox when enabled, otherwise none at all (Apollo's
 * production default would still serve a page that points browsers at Studio). Sandbox never
 * sends cookies: the gateway authenticates by header only.
 */
export function landingPagePlugin(enableSandbox: boolean): ApolloServerPlugin {
  if (!enableSandbox) return ApolloServerPluginLandingPageDisabled();
  return ApolloServerPluginLandingPageLocalDefault({
    embed: true,
    document: SANDBOX_EXAMPLE_OPERATION,
    headers: { ...SANDBOX_HEADERS },
    includeCookies: false,
    footer: false,
  });
}
