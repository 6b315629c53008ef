import type { ApolloServerPlugin, GraphQLServerListener } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { Explorer } from '../config/loadConfig';
import { graphiqlLandingPagePlugin } from './graphiql';

const SANDBOX_EXAMPLE_OPERATION = `# Send your IAM token in the X-Auth-Token header (Headers tab below).
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

const TOKEN_HEADER = 'X-Auth-Token';
const DEMO_TOKEN_LINE = "# The embedded simulator's demo token is preset in the X-Auth-Token header.\n";

/** No page for `off`: Apollo's production default would point browsers at Studio. */
export function landingPagePlugin(explorer: Explorer, demoToken: string | undefined): ApolloServerPlugin {
  if (explorer === 'off') return ApolloServerPluginLandingPageDisabled();
  const document =
    demoToken === undefined ? SANDBOX_EXAMPLE_OPERATION : SANDBOX_EXAMPLE_OPERATION.replace(/^#.*\n/, DEMO_TOKEN_LINE);
  const demoHeaders = demoToken === undefined ? undefined : { [TOKEN_HEADER]: demoToken };
  if (explorer === 'graphiql') return graphiqlLandingPagePlugin(document, demoHeaders ?? {});
  const sandbox = ApolloServerPluginLandingPageLocalDefault({
    embed: {
      runTelemetry: false,
      ...(demoHeaders === undefined ? {} : { initialState: { sharedHeaders: demoHeaders } }),
    },
    document,
    ...(demoHeaders === undefined ? { headers: { [TOKEN_HEADER]: '<your token>' } } : {}),
    includeCookies: false,
    footer: false,
  });
  return {
    async serverWillStart(service) {
      const { renderLandingPage } = (await sandbox.serverWillStart!(service)) as GraphQLServerListener;
      const { html } = await renderLandingPage!();
      const page = async () => withHint(typeof html === 'string' ? html : await html());
      return { renderLandingPage: async () => ({ html: page }) };
    },
  };
}

export const SANDBOX_UNREACHABLE_TITLE = 'Apollo Sandbox could not be loaded';
export const SANDBOX_UNREACHABLE_HINT =
  "Sandbox loads from Apollo's CDN (embeddable-sandbox.cdn.apollographql.com), which this browser cannot reach. " +
  'On a network without it, start the gateway with EXPLORER=graphiql: the gateway serves GraphiQL itself, and it loads nothing from any other host.';

const SANDBOX_SCRIPT_TAG = /<script nonce="([^"]+)" src="https:\/\/embeddable-sandbox\.cdn\.apollographql\.com\/[^"]*"><\/script>/;

// Without the CDN, the page names EXPLORER=graphiql (Apollo's fallback says only "you might be offline"): the
// embed script is synchronous, so one after it (with the page's nonce) knows. Text only; Sandbox stubbed.
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
