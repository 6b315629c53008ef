import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { passesCsrfPrevention } from '../../src/http/csrf';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';
import { send } from '../security/http';

/**
 * The whole-response cache and in-flight coalescing answer requests before Apollo sees them; they
 * must refuse exactly what Apollo's CSRF prevention refuses, or a forged cross-site GET is served
 * what an honest (preflighted) request stored.
 */

const QUERY = '{ engines(first: 1) { totalCount } }';
const getUrl = (h: Harness) => `${h.gateway.url}?query=${encodeURIComponent(QUERY)}`;
const CSRF_MESSAGE = /Cross-Site Request Forgery/;

describe('passesCsrfPrevention agrees with Apollo Server', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ...CACHES_OFF });
  });
  afterAll(() => h.close());

  const contentTypes = [undefined, 'application/json', 'application/json; charset=utf-8', 'text/plain', 'TEXT/Plain; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/graphql', ';;not a type', ''];
  const preflight: Array<Record<string, string>> = [{}, { 'apollo-require-preflight': 'true' }, { 'x-apollo-operation-name': 'Q' }, { 'x-apollo-operation-name': '' }, { 'x-other': 'x' }];
  const cases = ['GET', 'POST'].flatMap((method) => contentTypes.flatMap((contentType) => preflight.map((extra) => ({ method, contentType, extra }))));

  it.each(cases)('%j', async ({ method, contentType, extra }) => {
    const headers: Record<string, string> = { 'x-auth-token': DEMO_TOKEN, ...extra };
    if (contentType !== undefined) headers['content-type'] = contentType;
    const response = await send(method === 'GET' ? getUrl(h) : h.gateway.url, { method, headers, body: method === 'POST' ? JSON.stringify({ query: QUERY }) : undefined });
    const refusedByApollo = response.status === 400 && CSRF_MESSAGE.test(response.text);
    expect(passesCsrfPrevention(lowerCased(headers))).toBe(!refusedByApollo);
  });
});

describe('requests answered before Apollo', () => {
  let h: Harness;
  beforeAll(async () => {
    // Caches at their defaults.
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('a GET that CSRF prevention refuses is not served from the whole-response cache', async () => {
    const honest = await send(getUrl(h), { headers: { 'x-auth-token': DEMO_TOKEN, 'apollo-require-preflight': 'true' } });
    expect(honest.status).toBe(200);
    const again = await send(getUrl(h), { headers: { 'x-auth-token': DEMO_TOKEN, 'apollo-require-preflight': 'true' } });
    expect(again.headers.age).toBeDefined();
    const forged = await send(getUrl(h), { headers: { 'x-auth-token': DEMO_TOKEN } });
    expect(forged.status).toBe(400);
    expect(forged.text).toMatch(CSRF_MESSAGE);
    expect(forged.text).not.toMatch(/totalCount/);
  });

  it('nor given the answer of an identical preflighted request in flight', async () => {
    h.simulator.injectFault({ route: 'listEngines', latencyMs: 300, times: 1 });
    const url = `${h.gateway.url}?query=${encodeURIComponent('{ engines(first: 2) { totalCount } }')}`;
    const honest = send(url, { headers: { 'x-auth-token': DEMO_TOKEN, 'apollo-require-preflight': 'true' } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const forged = await send(url, { headers: { 'x-auth-token': DEMO_TOKEN } });
    expect(forged.status).toBe(400);
    expect(forged.text).toMatch(CSRF_MESSAGE);
    expect((await honest).status).toBe(200);
  });
});

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
