import type { ApolloServerPlugin, GraphQLServerListener, LandingPage } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { Explorer } from '../config/loadConfig';
import { graphiqlLandingPagePlugin } from './graphiql';

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

/** The header a caller's token goes in. */
const TOKEN_HEADER = 'X-Auth-Token';

export interface ExplorerOptions {
  /**
   * The embedded simulator's demo token, preset in the explorer so that it works at once, schema
   * included. Only main.ts sets it, and only when it started the simulator: a real token is never
   * written into a page.
   */
  readonly demoToken?: string | undefined;
}

/**
 * What a browser opening `/graphql` finds (EXPLORER): the embedded Apollo Sandbox, the bundled
 * GraphiQL (see graphiql.ts), or no landing page at all (Apollo's production default would still
 * serve a page that points browsers at Studio).
 *
 * Sandbox sends no cookies (the gateway authenticates by header only) and no telemetry to Apollo
 * (`runTelemetry: false`, no footer); it still loads itself from Apollo's CDN, which GraphiQL does
 * not. With the demo token, Sandbox gets it as a shared header, which Sandbox sends with its own
 * introspection as well as with every operation; otherwise the `<your token>` placeholder goes in
 * the operation's headers only, where the user replaces it.
 */
export function landingPagePlugin(explorer: Explorer, options: ExplorerOptions = {}): ApolloServerPlugin {
  const { demoToken } = options;
  if (explorer === 'off') return ApolloServerPluginLandingPageDisabled();
  if (explorer === 'graphiql') {
    return graphiqlLandingPagePlugin({
      document: exampleOperation(demoToken !== undefined),
      headers: demoToken === undefined ? {} : { [TOKEN_HEADER]: demoToken },
    });
  }
  return withUnreachableSandboxHint(ApolloServerPluginLandingPageLocalDefault({
    embed: {
      runTelemetry: false,
      ...(demoToken === undefined ? {} : { initialState: { sharedHeaders: { [TOKEN_HEADER]: demoToken } } }),
    },
    document: exampleOperation(demoToken !== undefined),
    ...(demoToken === undefined ? { headers: { ...SANDBOX_HEADERS } } : {}),
    includeCookies: false,
    footer: false,
  }));
}

/** What the page says when Apollo's CDN cannot be reached: where the offline explorer is. */
export const SANDBOX_UNREACHABLE_TITLE = 'Apollo Sandbox could not be loaded';
export const SANDBOX_UNREACHABLE_HINT =
  "Sandbox loads from Apollo's CDN (embeddable-sandbox.cdn.apollographql.com), which this browser cannot reach. " +
  'On a network without it, start the gateway with EXPLORER=graphiql: the gateway serves GraphiQL itself, and it loads nothing from any other host.';

/** Apollo's page loads Sandbox with this tag (a nonce'd, synchronous script from its CDN). */
const SANDBOX_SCRIPT_TAG = /<script nonce="([^"]+)" src="https:\/\/embeddable-sandbox\.cdn\.apollographql\.com\/[^"]*"><\/script>/;

/**
 * Apollo's Sandbox page, told what to do when Sandbox cannot load. Apollo's own fallback says only
 * "you might be offline". The embed script is synchronous, so a script placed right after it
 * knows whether it loaded: when it did not, the page names EXPLORER=graphiql instead, and Apollo's
 * start-up finds a stand-in rather than throwing. The added script carries the page's nonce, as
 * Apollo's page's CSP requires; it writes text only (no markup from anywhere).
 */
function withUnreachableSandboxHint(plugin: ApolloServerPlugin): ApolloServerPlugin {
  return {
    ...plugin,
    async serverWillStart(service) {
      const listener = (await plugin.serverWillStart?.(service)) as GraphQLServerListener | undefined;
      const render = listener?.renderLandingPage;
      if (listener === undefined || render === undefined) return listener;
      return {
        ...listener,
        async renderLandingPage(): Promise<LandingPage> {
          const page = await render.call(listener);
          const html = page.html;
          return { html: typeof html === 'string' ? withHint(html) : async () => withHint(await html()) };
        },
      };
    },
  };
}

function withHint(html: string): string {
  return html.replace(SANDBOX_SCRIPT_TAG, (tag, nonce: string) => `${tag}
<script nonce="${nonce}">
  if (window.EmbeddedSandbox === undefined) {
    document.getElementById('embeddableSandbox').remove();
    var fallback = document.querySelector('.fallback');
    var title = document.createElement('h1');
    title.textContent = ${JSON.stringify(SANDBOX_UNREACHABLE_TITLE)};
    var hint = document.createElement('p');
    hint.textContent = ${JSON.stringify(SANDBOX_UNREACHABLE_HINT)};
    fallback.replaceChildren(title, hint);
    fallback.style.animation = 'none';
    fallback.style.opacity = '1';
    window.EmbeddedSandbox = function () {};
  }
</script>`);
}

/** The example operation, with a first line that says where the token is (or goes). */
function exampleOperation(demoTokenPreset: boolean): string {
  if (!demoTokenPreset) return SANDBOX_EXAMPLE_OPERATION;
  return SANDBOX_EXAMPLE_OPERATION.replace(/^#.*\n/, "# The embedded simulator's demo token is preset in the X-Auth-Token header.\n");
}
