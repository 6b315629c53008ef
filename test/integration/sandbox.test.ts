import { DEMO_TOKEN } from '../../src/simulator';
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

  it('refuses HTTP batches (ALLOW_BATCHING is off)', async () => {
    const response = await postJson(h.gateway.url, [{ query: '{ __typename }' }, { query: '{ __typename }' }]);
    expect(response.status).toBe(400);
    expect(response.text).toMatch(/batch/i);
  });

  it('suggests field names in development', async () => {
    const response = await h.gql('{ engins { totalCount } }');
    expect(response.body.errors![0]!.message).toMatch(/Did you mean .*"engines"/);
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

  it('does not allow the Studio origin', async () => {
    const response = await send(h.gateway.url, { method: 'OPTIONS', headers: preflight(STUDIO) });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('production with ENABLE_SANDBOX=true and ENABLE_INTROSPECTION=true', () => {
  it('serves Sandbox, answers introspection and allows the Studio origin', async () => {
    const h = await startHarness({ NODE_ENV: 'production', LOG_LEVEL: 'silent', ENABLE_SANDBOX: 'true', ENABLE_INTROSPECTION: 'true' });
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
