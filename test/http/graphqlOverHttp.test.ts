import { serverAudits } from 'graphql-http';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';
import { send } from '../security/http';

/**
 * GraphQL over HTTP, checked by graphql-http's own audit of the spec, then status by status: a
 * request error answered as `application/json` is a 200 (appendix A), as
 * `application/graphql-response+json` Apollo's 4xx; a request that is not well-formed is a 4xx either way.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ...CACHES_OFF });
});
afterAll(() => h.close());

/** The audit's GETs carry no preflight header: Apollo's CSRF prevention refuses them, by design (docs/security.md). */
const CSRF_REFUSED_GETS = ['5A70', '6A70', 'D6D5'];

it("passes every MUST and SHOULD of graphql-http's server audit", async () => {
  const results = await Promise.all(serverAudits({ url: h.gateway.url }).map((audit) => audit.fn()));
  const failed = results.flatMap((result) => (result.status === 'error' || result.status === 'warn' ? [{ id: result.id, name: result.name, reason: result.reason }] : []));
  expect(failed).toEqual([]);
  const notices = results.filter((result) => result.status === 'notice').map((result) => result.id);
  expect(notices.sort()).toEqual(CSRF_REFUSED_GETS);
  expect(results.length).toBeGreaterThan(50);
});

const JSON_ONLY = 'application/json';
const GRAPHQL_RESPONSE = 'application/graphql-response+json';
const APOLLO_CLIENT = 'application/graphql-response+json,application/json;q=0.9';
const withToken = { 'content-type': 'application/json', 'x-auth-token': DEMO_TOKEN };

type Case = [name: string, request: { method?: string; url?: string; headers?: Record<string, string>; body?: unknown }, code: string, graphqlResponseStatus: number];
const cases: Case[] = [
  ['a document that does not parse', { body: { query: '{' } }, 'GRAPHQL_PARSE_FAILED', 400],
  ['a document that does not validate', { body: { query: '{ nope }' } }, 'GRAPHQL_VALIDATION_FAILED', 400],
  ['an operation name the document lacks', { body: { query: '{ __typename }', operationName: 'Other' } }, 'OPERATION_RESOLUTION_FAILURE', 400],
  ['variables that do not coerce', { body: { query: 'query ($id: ID!) { engine(id: $id) { id } }', variables: { id: null } } }, 'BAD_USER_INPUT', 400],
  ['an operation past MAX_UPSTREAM_CALLS', { body: { query: '{ engines(first: 100) { nodes { jobs(first: 100) { nodes { engine { latestJob { id } } } } } } }' } }, 'QUERY_TOO_COMPLEX', 400],
  ['a subscription over HTTP', { body: { query: 'subscription { jobUpdated(engineId: "e", id: "1") { id } }' } }, 'OPERATION_NOT_SUPPORTED', 400],
  ['no token', { headers: { 'content-type': 'application/json' }, body: { query: '{ engines(first: 1) { totalCount } }' } }, 'UNAUTHENTICATED', 401],
];

describe.each([
  ['no Accept', undefined, 200],
  ['application/json', JSON_ONLY, 200],
  ['*/*', '*/*', 200],
  ['application/graphql-response+json', GRAPHQL_RESPONSE, undefined],
  ["Apollo Client's Accept", APOLLO_CLIENT, undefined],
] as const)('a well-formed request with a request error, Accept: %s', (_name, accept, jsonStatus) => {
  it.each(cases)('%s: %s', async (_case, request, code, graphqlResponseStatus) => {
    const headers = { ...(request.headers ?? withToken), ...(accept === undefined ? {} : { accept }) };
    const response = await send(h.gateway.url, { method: 'POST', headers, body: JSON.stringify(request.body) });
    expect(response.json().errors.map((error: { extensions: { code: string } }) => error.extensions.code)).toContain(code);
    expect(response.json().data).toBeUndefined();
    expect(response.status).toBe(jsonStatus ?? graphqlResponseStatus);
    const mediaType = jsonStatus === undefined ? GRAPHQL_RESPONSE : JSON_ONLY;
    expect(response.headers['content-type']).toBe(`${mediaType}; charset=utf-8`);
    if (code === 'UNAUTHENTICATED') expect(response.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(h.simulator.callCount()).toBe(0);
  });
});

it.each<[string, { method: string; body?: string; query?: string }, number]>([
  ['no query', { method: 'POST', body: JSON.stringify({ qeury: '{ __typename }' }) }, 400],
  ['variables that are not a map', { method: 'POST', body: JSON.stringify({ query: '{ __typename }', variables: [7] }) }, 400],
  ['a body that is not JSON', { method: 'POST', body: '{"query":' }, 400],
  ['a mutation by GET', { method: 'GET', query: 'mutation { __typename }' }, 405],
])('a request that is not well-formed keeps its 4xx, whatever it accepts: %s', async (_name, request, status) => {
  for (const accept of [JSON_ONLY, GRAPHQL_RESPONSE]) {
    const url = request.query === undefined ? h.gateway.url : `${h.gateway.url}?query=${encodeURIComponent(request.query)}`;
    const headers = { ...withToken, accept, 'apollo-require-preflight': 'true' };
    const response = await send(url, { method: request.method, headers, body: request.body });
    expect([response.status, response.json().errors[0].extensions.code]).toEqual([status, 'BAD_REQUEST']);
  }
});

it('answers field errors with their data as 200, whatever it accepts', async () => {
  for (const accept of [JSON_ONLY, GRAPHQL_RESPONSE]) {
    const response = await send(h.gateway.url, {
      method: 'POST',
      headers: { ...withToken, accept },
      body: JSON.stringify({ query: '{ engine(id: "no-such-engine") { id } job(engineId: "bad id!", id: "j") { id } }' }),
    });
    expect(response.status).toBe(200);
    expect(response.json().data).toEqual({ engine: null, job: null });
    expect(response.json().errors.map((error: { extensions: { code: string } }) => error.extensions.code)).toEqual(['BAD_USER_INPUT']);
  }
});

describe('batches (ALLOW_BATCHING)', () => {
  let batching: Harness;
  beforeAll(async () => {
    batching = await startHarness({ ...CACHES_OFF, ALLOW_BATCHING: 'true' });
  });
  afterAll(() => batching.close());

  const post = (body: unknown, headers: Record<string, string> = withToken) => send(batching.gateway.url, { method: 'POST', headers, body: JSON.stringify(body) });

  it.each([
    ['no Accept', withToken],
    ['application/graphql-response+json', { ...withToken, accept: GRAPHQL_RESPONSE }],
    ['no token', { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE }],
  ])('answers a batch with a request error in one operation as an array, 200 (%s)', async (_name, headers) => {
    const response = await post([{ query: '{ __typename }' }, { query: '{ nope }' }], headers);
    expect(response.status).toBe(200);
    expect(response.json()).toEqual([{ data: { __typename: 'Query' } }, { errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }) })] }]);
  });

  it('keeps the 400 when a refusal fails the whole batch (Apollo answers one error, not the array)', async () => {
    // One leaf selected 101 times is refused before validation, which fails every operation of the batch.
    const response = await post([{ query: '{ __typename }' }, { query: `{ ${'a: __typename '.repeat(101)}}` }]);
    expect(Array.isArray(response.json())).toBe(false);
    expect(response.status).toBe(400);
  });
});
