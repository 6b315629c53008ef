import { loadConfig } from '../../src/config/loadConfig';
import { buildGatewaySchema } from '../../src/graphql/buildSchema';
import { GRAPHIQL_ASSETS_PATH, GRAPHIQL_CSP } from '../../src/graphql/graphiql';
import { SANDBOX_UNREACHABLE_HINT } from '../../src/graphql/landingPage';
import { apolloOptions } from '../../src/security/apolloOptions';
import { DocumentStore } from '../../src/graphql/documentStore';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { postJson, send } from '../security/http';
import { errorCodes, startHarness, type Harness } from '../support/harness';

/** The HTTP surface a browser sees: Sandbox, introspection, CORS, CSRF, body size, batching. */

const STUDIO = 'https://studio.apollographql.com';
const html = { accept: 'text/html,application/xhtml+xml' };
const preflight = (origin: string) => ({
  origin,
  'access-control-request-method': 'POST',
  'access-control-request-headers': 'content-type,x-auth-token,x-project-id,x-enterprise-project-id,authorization',
});

describe('development (the default)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ NODE_ENV: 'development', LOG_LEVEL: 'silent', CORS_ORIGINS: 'https://app.example.com' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('serves the Apollo Sandbox landing page with the example operation and an X-Auth-Token placeholder', async () => {
    const response = await send(h.gateway.url, { headers: html });
    expect(response.status).toBe(200);
    expect(String(response.headers['content-type'])).toMatch(/text\/html/);
    expect(response.text).toContain('embeddable-sandbox');
    expect(response.text).toContain('query Dashboard');
    expect(response.text).toMatch(/X-Auth-Token[^<]*your token/);
    expect(response.text).not.toContain(DEMO_TOKEN);
  });

  it("points to EXPLORER=graphiql where Sandbox cannot load, from a script under the page's nonce (sandboxBrowser.test.ts runs it)", async () => {
    const { text } = await send(h.gateway.url, { headers: html });
    const nonce = /script-src 'self' 'nonce-([0-9a-f]+)'/.exec(text)?.[1];
    expect(nonce).toBeDefined();
    expect(text).toMatch(new RegExp(`embeddable-sandbox\\.umd\\.production\\.min\\.js[^"]*"></script>\\s*<script nonce="${nonce}">\\s*if \\(window\\.EmbeddedSandbox === undefined\\)`));
    expect(text).toContain(JSON.stringify(SANDBOX_UNREACHABLE_HINT));
  });

  it('configures Sandbox to send no telemetry to Apollo and no cookies', async () => {
    const { text } = await send(h.gateway.url, { headers: html });
    const config = sandboxConfigOf(text);
    expect(config).toMatchObject({ runTelemetry: false, initialState: { includeCookies: false } });
    expect(config.initialState.sharedHeaders).toBeUndefined();
  });

  it('serves no GraphiQL assets while the explorer is Sandbox', async () => {
    expect((await send(new URL(`${GRAPHIQL_ASSETS_PATH}/graphiql.min.js`, h.gateway.url).href)).status).toBe(404);
  });

  it('answers introspection', async () => {
    const response = await h.gql('{ __schema { queryType { name } } }');
    expect(response.body.data.__schema.queryType.name).toBe('Query');
  });

  it('answers a CORS preflight from the Studio origin, allowing the identity headers', async () => {
    const response = await send(h.gateway.url, { method: 'OPTIONS', headers: preflight(STUDIO) });
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(STUDIO);
    const allowed = String(response.headers['access-control-allow-headers']).toLowerCase().split(',');
    expect(allowed).toEqual(expect.arrayContaining(['x-auth-token', 'x-project-id', 'x-enterprise-project-id', 'authorization', 'content-type']));
    expect(String(response.headers['access-control-allow-methods'])).toContain('POST');
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('allows the CORS_ORIGINS origins on real requests, and no other origin', async () => {
    const allowed = await postJson(h.gateway.url, { query: '{ __typename }' }, { origin: 'https://app.example.com' });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const other = await send(h.gateway.url, { method: 'OPTIONS', headers: preflight('https://evil.example.com') });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a text/plain POST (CSRF prevention) with 400', async () => {
    h.simulator.resetCalls();
    const response = await send(h.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-auth-token': DEMO_TOKEN },
      body: JSON.stringify({ query: '{ engines { totalCount } }' }),
    });
    expect(response.status).toBe(400);
    expect(response.text).toMatch(/Cross-Site Request Forgery/);
    expect(h.simulator.calls).toHaveLength(0);
  });

  it('refuses a GET operation without a preflight-forcing header (CSRF prevention)', async () => {
    const response = await send(`${h.gateway.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'x-auth-token': DEMO_TOKEN } });
    expect(response.status).toBe(400);
  });

  it('answers its own refusals in the media type the Accept prefers, as Apollo answers', async () => {
    const accept = 'application/graphql-response+json';
    const notJson = await send(h.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: '{' });
    expect(notJson.status).toBe(400);
    expect(notJson.headers['content-type']).toBe('application/graphql-response+json; charset=utf-8');
    const plain = await send(h.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(plain.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it.each([2, 11])('refuses HTTP batches (ALLOW_BATCHING is off), of %i operations alike', async (size) => {
    const response = await postJson(h.gateway.url, Array(size).fill({ query: '{ __typename }' }));
    expect(response.status).toBe(400);
    expect(response.json().errors[0].message).toBe('Operation batching is off on this gateway (ALLOW_BATCHING): send one operation per request.');
  });

  it('suggests field names in development', async () => {
    const response = await h.gql('{ engins { totalCount } }');
    expect(response.body.errors![0]!.message).toMatch(/Did you mean .*"engines"/);
  });
});

/** The configuration object the Sandbox landing page passes to `new EmbeddedSandbox(…)`. */
function sandboxConfigOf(pageHtml: string): any {
  const match = /var embeddedSandboxConfig = (\{.*\});/.exec(pageHtml);
  if (match === null) throw new Error('No embedded Sandbox configuration in the landing page');
  return JSON.parse(match[1]!);
}

describe('Sandbox on the embedded simulator (npm start without CSE_ENDPOINT presets the demo token)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ NODE_ENV: 'development', LOG_LEVEL: 'silent' }, { presetDemoToken: true });
  });
  afterAll(async () => {
    await h.close();
  });

  it("presets the demo token as a shared header (sent with Sandbox's introspection too), and no placeholder", async () => {
    const response = await send(h.gateway.url, { headers: html });
    const config = sandboxConfigOf(response.text);
    expect(config.initialState.sharedHeaders).toEqual({ 'X-Auth-Token': DEMO_TOKEN });
    expect(config.initialState.headers).toBeUndefined();
    expect(config).toMatchObject({ runTelemetry: false, initialState: { includeCookies: false } });
    expect(response.text).not.toContain('your token');
    expect(config.initialState.document).toMatch(/demo token is preset/);
  });

  it("answers Sandbox's introspection with the preset header alone", async () => {
    const { sharedHeaders } = sandboxConfigOf((await send(h.gateway.url, { headers: html })).text).initialState;
    const response = await h.gql('{ __schema { queryType { name } } }', undefined, { 'x-auth-token': undefined, ...sharedHeaders });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.__schema.queryType.name).toBe('Query');
  });
});

describe('Apollo reporting', () => {
  it('is switched off whatever the environment: usage and schema reporting plugins are installed disabled', () => {
    const plugins = apolloOptions(loadConfig({}), buildGatewaySchema(), new DocumentStore(1 << 20)).options.plugins as Array<Record<string, unknown>>;
    const disabled = plugins.filter((plugin) => plugin.__is_disabled_plugin__ === true).map((plugin) => plugin.__internal_plugin_id__);
    expect(disabled).toEqual(expect.arrayContaining(['UsageReporting', 'SchemaReporting', 'InlineTrace']));
  });
});

describe('EXPLORER=graphiql (the bundled GraphiQL)', () => {
  let h: Harness;
  let demo: Harness;
  beforeAll(async () => {
    h = await startHarness({ NODE_ENV: 'production', LOG_LEVEL: 'silent', EXPLORER: 'graphiql', ENABLE_INTROSPECTION: 'true' });
    demo = await startHarness({ NODE_ENV: 'development', LOG_LEVEL: 'silent', EXPLORER: 'graphiql' }, { presetDemoToken: true });
  });
  afterAll(async () => {
    await h.close();
    await demo.close();
  });

  it('serves the GraphiQL page at /graphql, loading only its own assets under a CSP of self', async () => {
    const response = await send(h.gateway.url, { headers: html });
    expect(response.status).toBe(200);
    expect(String(response.headers['content-type'])).toMatch(/text\/html/);
    expect(response.text).toContain(`<meta http-equiv="Content-Security-Policy" content="${GRAPHIQL_CSP}" />`);
    expect(GRAPHIQL_CSP).toMatch(/default-src 'none'.*script-src 'self'.*connect-src 'self'/);
    expect(response.text).not.toMatch(/https?:\/\//);
    expect(response.text).not.toContain('embeddable-sandbox');
    const sources = [...response.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(sources).toEqual(expect.arrayContaining(['./graphiql/assets/graphiql.min.js', './graphiql/assets/react.production.min.js']));
    for (const source of sources) expect(source).toMatch(/^(\.\/graphiql\/assets\/|data:)/);
  });

  it('presets no token off the simulator, and the demo token on it', async () => {
    expect((await send(h.gateway.url, { headers: html })).text).not.toContain('X-Auth-Token":');
    const page = (await send(demo.gateway.url, { headers: html })).text;
    const config = JSON.parse(/<script type="application\/json" id="graphiql-config">(.*)<\/script>/.exec(page)![1]!);
    expect(config.headers).toEqual({ 'X-Auth-Token': DEMO_TOKEN });
    expect(config.document).toMatch(/query Dashboard/);
  });

  it.each([
    ['graphiql.min.js', /javascript/],
    ['graphiql.min.css', /text\/css/],
    ['react.production.min.js', /javascript/],
    ['react-dom.production.min.js', /javascript/],
    ['start.js', /javascript/],
    ['page.css', /text\/css/],
  ])('serves %s from the gateway, revalidated by ETag', async (name, type) => {
    const url = new URL(`${GRAPHIQL_ASSETS_PATH}/${name}`, h.gateway.url).href;
    const response = await send(url);
    expect(response.status).toBe(200);
    expect(String(response.headers['content-type'])).toMatch(type);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.text.length).toBeGreaterThan(10);
    const again = await send(url, { headers: { 'if-none-match': String(response.headers.etag) } });
    expect(again.status).toBe(304);
  });

  it('answers 404 for anything else under the assets path, and 405 for other methods', async () => {
    expect((await send(new URL(`${GRAPHIQL_ASSETS_PATH}/../package.json`, h.gateway.url).href)).status).toBe(404);
    expect((await send(new URL(`${GRAPHIQL_ASSETS_PATH}/index.umd.js.map`, h.gateway.url).href)).status).toBe(404);
    expect((await send(new URL(`${GRAPHIQL_ASSETS_PATH}/start.js`, h.gateway.url).href, { method: 'DELETE' })).status).toBe(405);
  });

  it('does not allow the Studio origin in production (CORS), Sandbox being off', async () => {
    const response = await send(h.gateway.url, { method: 'OPTIONS', headers: preflight(STUDIO) });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('EXPLORER=off in development', () => {
  it('serves no landing page', async () => {
    const h = await startHarness({ NODE_ENV: 'development', LOG_LEVEL: 'silent', EXPLORER: 'off' });
    try {
      const response = await send(h.gateway.url, { headers: html });
      expect(response.status).toBe(400);
      expect(response.text).not.toContain('embeddable-sandbox');
      expect(response.text).not.toContain('graphiql-config');
    } finally {
      await h.close();
    }
  });
});

describe('production', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ NODE_ENV: 'production', LOG_LEVEL: 'silent' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('serves no landing page', async () => {
    const response = await send(h.gateway.url, { headers: html });
    expect(response.text).not.toContain('embeddable-sandbox');
    expect(response.status).toBe(400);
  });

  it('refuses introspection and the _service SDL', async () => {
    const introspection = await h.gql('{ __schema { queryType { name } } }');
    expect(errorCodes(introspection)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const sdl = await h.gql('{ _service { sdl } }');
    expect(errorCodes(sdl)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('gives no field suggestions', async () => {
    const response = await h.gql('{ engins { totalCount } }');
    expect(errorCodes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(response.body.errors![0]!.message).not.toMatch(/Did you mean/);
  });

  it('gives no suggestions for a misspelt input field of a variable either (input coercion, not validation)', async () => {
    const query = 'query J($filter: JobFilter) { engines(first: 1) { nodes { jobs(first: 1, filter: $filter) { totalCount } } } }';
    const response = await h.gql(query, { filter: { form: '2026-01-01T00:00:00Z' } });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.errors![0]!.message).toMatch(/"form"/);
    expect(response.body.errors![0]!.message).not.toMatch(/Did you mean/);
  });

  it('does not allow the Studio origin', async () => {
    const response = await send(h.gateway.url, { method: 'OPTIONS', headers: preflight(STUDIO) });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('production with EXPLORER=sandbox and ENABLE_INTROSPECTION=true', () => {
  it('serves Sandbox, answers introspection and allows the Studio origin', async () => {
    const h = await startHarness({ NODE_ENV: 'production', LOG_LEVEL: 'silent', EXPLORER: 'sandbox', ENABLE_INTROSPECTION: 'true' });
    try {
      expect((await send(h.gateway.url, { headers: html })).text).toContain('embeddable-sandbox');
      expect((await h.gql('{ __schema { queryType { name } } }')).body.errors).toBeUndefined();
      const response = await send(h.gateway.url, { method: 'OPTIONS', headers: preflight(STUDIO) });
      expect(response.headers['access-control-allow-origin']).toBe(STUDIO);
    } finally {
      await h.close();
    }
  });
});

describe('limits from the environment', () => {
  it('refuses a body above MAX_BODY_BYTES with 413', async () => {
    const h = await startHarness({ MAX_BODY_BYTES: '2048' });
    try {
      const small = await postJson(h.gateway.url, { query: '{ __typename }' });
      expect(small.status).toBe(200);
      const large = await postJson(h.gateway.url, { query: `{ __typename }`, variables: { pad: 'x'.repeat(4096) } });
      expect(large.status).toBe(413);
      expect(large.json().errors[0].extensions.code).toBe('BAD_REQUEST');
    } finally {
      await h.close();
    }
  });

  it('accepts HTTP batches with ALLOW_BATCHING=true', async () => {
    const h = await startHarness({ ALLOW_BATCHING: 'true' });
    try {
      const response = await postJson(h.gateway.url, [{ query: '{ __typename }' }, { query: '{ __typename }' }]);
      expect(response.status).toBe(200);
      expect(response.json()).toEqual([{ data: { __typename: 'Query' } }, { data: { __typename: 'Query' } }]);
    } finally {
      await h.close();
    }
  });
});
