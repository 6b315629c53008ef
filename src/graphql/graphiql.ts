import type { ApolloServerPlugin } from '@apollo/server';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { basename, dirname, join } from 'node:path';
import type { IntrospectionField, IntrospectionSchema, IntrospectionTypeRef } from 'graphql';

// EXPLORER=graphiql, served from node_modules so it works where Apollo's CDN cannot be reached.
// GraphiQL 4 and React 18 are the last majors with prebuilt browser (UMD) bundles.

export const GRAPHIQL_ASSETS_PATH = '/graphiql/assets';
type PresetHeaders = Record<string, string>;

const PACKAGED_ASSETS = [
  ['react', 'umd/react.production.min.js'],
  ['react-dom', 'umd/react-dom.production.min.js'],
  ['graphiql', 'graphiql.min.js'],
  ['graphiql', 'graphiql.min.css'],
] as const;

/** The page's CSP allows no inline script or style: ours are files too. */
const START_SCRIPT_NAME = 'start.js';
const PAGE_STYLE_NAME = 'page.css';
const PAGE_STYLE = 'html, body, #graphiql { height: 100%; margin: 0; }\n';

// Renders from the page's JSON block (data, which the CSP allows). The preset headers go to the
// fetcher too, which GraphiQL's introspection uses; never persisted: a token typed in stays in the tab.
const START_SCRIPT = `'use strict';
(function () {
  var config = JSON.parse(document.getElementById('graphiql-config').textContent);
  var endpoint = new URL(window.location.pathname, window.location.href).href;
  var headers = Object.keys(config.headers).length === 0 ? '' : JSON.stringify(config.headers, null, 2);
  var query = new URLSearchParams(window.location.search).get('query');
  var withoutFederationInternals = ${withoutFederationInternals.toString()};
  var fetchOperation = GraphiQL.createFetcher({ url: endpoint, headers: config.headers });
  // GraphiQL names its own introspection IntrospectionQuery: its docs pane shows the API alone.
  var fetcher = function (params, options) {
    var result = fetchOperation(params, options);
    return params.operationName === 'IntrospectionQuery' ? Promise.resolve(result).then(withoutFederationInternals) : result;
  };
  var props = {
    fetcher: fetcher,
    defaultQuery: config.document,
    defaultHeaders: headers,
    headers: headers,
    shouldPersistHeaders: false,
    isHeadersEditorEnabled: true,
    defaultEditorToolsVisibility: headers === '' ? false : 'headers',
  };
  if (query !== null) props.query = query;
  ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(GraphiQL, props));
})();
`;

/** An introspection result without what @apollo/subgraph adds for routers (`_service`, `_entities`, their
 * types, the linked specs' `__` types, type-system directives). Runs in the browser as source: no imports. */
export function withoutFederationInternals<Result>(result: Result): Result {
  const data = (result as { data?: { __schema?: IntrospectionSchema } } | null | undefined)?.data;
  const schema = data?.__schema;
  if (schema?.types === undefined) return result;
  const isPlumbing = (name: string): boolean => name === '_Any' || name === '_Entity' || name === '_Service' || (!name.startsWith('__') && name.includes('__'));
  const namedType = (ref: IntrospectionTypeRef): string => (ref.kind === 'LIST' || ref.kind === 'NON_NULL' ? namedType(ref.ofType) : ref.name);
  const usesPlumbing = (field: IntrospectionField): boolean => isPlumbing(namedType(field.type)) || field.args.some((arg) => isPlumbing(namedType(arg.type)));
  const executable: readonly string[] = ['QUERY', 'MUTATION', 'SUBSCRIPTION', 'FIELD', 'FRAGMENT_DEFINITION', 'FRAGMENT_SPREAD', 'INLINE_FRAGMENT', 'VARIABLE_DEFINITION'];
  const specified: readonly string[] = ['deprecated', 'specifiedBy', 'oneOf'];
  const types = schema.types
    .filter((type) => !isPlumbing(type.name))
    .map((type) => ('fields' in type && type.fields ? { ...type, fields: type.fields.filter((field) => !usesPlumbing(field)) } : type));
  const directives = schema.directives.filter((directive) => specified.includes(directive.name) || directive.locations.some((location) => executable.includes(location)));
  return { ...result, data: { ...data, __schema: { ...schema, types, directives } } };
}

/** `data:` for the icons and fonts in GraphiQL's stylesheet; a `<meta>`: Apollo's hook sets no headers. */
export const GRAPHIQL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** In load order: GraphiQL needs React and ReactDOM as globals. */
const SCRIPTS = ['react.production.min.js', 'react-dom.production.min.js', 'graphiql.min.js', START_SCRIPT_NAME];

/** `document`: the editor's on a first visit (a `?query=` wins). Relative URLs keep a proxy's prefix. */
export function graphiqlLandingPagePlugin(document: string, headers: PresetHeaders): ApolloServerPlugin {
  const assets = `.${GRAPHIQL_ASSETS_PATH}`;
  const html = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta http-equiv="Content-Security-Policy" content="${GRAPHIQL_CSP}" />
    <meta name="viewport" content="width=device-width,initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>GraphiQL · cse-jobs-gateway</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${assets}/graphiql.min.css" />
    <link rel="stylesheet" href="${assets}/${PAGE_STYLE_NAME}" />
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script type="application/json" id="graphiql-config">${scriptSafeJson({ document, headers })}</script>
${SCRIPTS.map((name) => `    <script src="${assets}/${name}"></script>`).join('\n')}
  </body>
</html>
`;
  return { serverWillStart: async () => ({ renderLandingPage: async () => ({ html }) }) };
}

/** Each file read once: a missing package fails the start-up, not a browser. */
export function graphiqlAssetRoutes(): Record<string, RequestListener> {
  const files: Array<[string, Buffer]> = [
    [START_SCRIPT_NAME, Buffer.from(START_SCRIPT)],
    [PAGE_STYLE_NAME, Buffer.from(PAGE_STYLE)],
    ...PACKAGED_ASSETS.map(([pkg, file]): [string, Buffer] => [basename(file), readPackageFile(pkg, file)]),
  ];
  const routes: Record<string, RequestListener> = {};
  for (const [name, body] of files) {
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    // The URLs are not versioned: a browser revalidates.
    const headers = { etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
    const type = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    routes[`${GRAPHIQL_ASSETS_PATH}/${name}`] = (request, response) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 }).end();
      } else if (request.headers['if-none-match'] === etag) {
        response.writeHead(304, headers).end();
      } else {
        response.writeHead(200, { ...headers, 'content-type': type, 'content-length': body.length });
        response.end(request.method === 'HEAD' ? undefined : body);
      }
    };
  }
  return routes;
}

function readPackageFile(pkg: string, file: string): Buffer {
  // Through package.json: the packages' `exports` do not list their bundles.
  let root: string;
  try {
    root = dirname(require.resolve(`${pkg}/package.json`));
  } catch (error) {
    throw new Error(`EXPLORER=graphiql needs the npm package "${pkg}" (a dependency of the gateway): ${(error as Error).message}`);
  }
  return readFileSync(join(root, file));
}

/** JSON that cannot end the `<script>` element it sits in (`</script>`, `<!--`). */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}
