import { DEMO_TOKEN, OTHER_PROJECT_ID, OTHER_TOKEN, SECOND_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';

/** Whose token, which project: the caller's own credentials, forwarded and never shown. */

let h: Harness;
beforeAll(async () => {
  // Counts upstream calls per operation: the response cache would serve repeats across operations.
  h = await startHarness(CACHES_OFF);
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.simulator.reset();
});

const ENGINES = '{ engines(first: 2) { totalCount nodes { id } } }';

it('refuses a request without a token with UNAUTHENTICATED and its challenge (HTTP 401 as application/graphql-response+json) before any upstream call', async () => {
  const json = await h.gql(ENGINES, undefined, { 'x-auth-token': undefined });
  const strict = await h.gql(ENGINES, undefined, { 'x-auth-token': undefined, accept: 'application/graphql-response+json' });
  expect([json.status, strict.status]).toEqual([200, 401]);
  for (const response of [json, strict]) {
    expect(response.headers['www-authenticate']).toBe('Bearer realm="cse-jobs-gateway"');
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.body.data).toBeUndefined();
  }
  expect(h.simulator.calls).toHaveLength(0);
});

it.each([
  ['a token that is too short', { 'x-auth-token': 'short' }],
  ['an Authorization header that is not Bearer', { 'x-auth-token': undefined, authorization: 'Basic dXNlcjpwYXNz' }],
])('refuses %s with UNAUTHENTICATED and no upstream call', async (_name, headers) => {
  const response = await h.gql(ENGINES, undefined, headers);
  expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  expect(h.simulator.calls).toHaveLength(0);
});

it('forwards the token as X-Auth-Token with the documented Accept and Content-Type', async () => {
  const response = await h.gql(ENGINES);
  expect(response.body.errors).toBeUndefined();
  expect(h.simulator.calls).toHaveLength(1);
  expect(h.simulator.calls[0]!.headers).toMatchObject({
    'x-auth-token': DEMO_TOKEN,
    accept: 'application/json',
    'content-type': 'application/json;charset=UTF-8',
  });
  expect(h.simulator.calls[0]!.headers['x-enterprise-project-id']).toBeUndefined();
});

it('accepts Authorization: Bearer <token> and forwards it as X-Auth-Token', async () => {
  const response = await h.gql(ENGINES, undefined, { 'x-auth-token': undefined, authorization: `Bearer ${SECOND_TOKEN}` });
  expect(response.body.errors).toBeUndefined();
  expect(h.simulator.calls[0]!.headers['x-auth-token']).toBe(SECOND_TOKEN);
});

it('maps a token the upstream refuses to UNAUTHENTICATED with the upstream code, never echoing the token', async () => {
  const badToken = 'not-a-real-token-0123456789';
  const response = await h.gql(ENGINES, undefined, { 'x-auth-token': badToken });
  expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  expect(response.body.errors![0]!.extensions!.upstream).toMatchObject({ status: 401, code: 'APIG.0301' });
  expect(response.text).not.toContain(badToken);
  expect(response.text).not.toContain(h.simulator.url);
});

it('selects the project with X-Project-Id, and forwards X-Enterprise-Project-ID when given', async () => {
  const response = await h.gql(
    '{ engines(first: 10) { totalCount nodes { id } } }',
    undefined,
    { 'x-auth-token': OTHER_TOKEN, 'x-project-id': OTHER_PROJECT_ID, 'x-enterprise-project-id': 'eps-1' },
  );
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data.engines.nodes.map((n: { id: string }) => n.id)).toContain(SEED.engines.other);
  expect(h.simulator.calls[0]!.path).toContain(`/v2/${OTHER_PROJECT_ID}/`);
  expect(h.simulator.calls[0]!.headers['x-enterprise-project-id']).toBe('eps-1');
});

it('maps a token of another project to FORBIDDEN', async () => {
  const response = await h.gql(ENGINES, undefined, { 'x-auth-token': OTHER_TOKEN });
  expect(errorCodes(response)).toEqual(['FORBIDDEN']);
  expect(response.body.errors![0]!.extensions!.upstream).toMatchObject({ status: 403 });
});

it('refuses a malformed X-Project-Id with BAD_USER_INPUT before any upstream call', async () => {
  const response = await h.gql(ENGINES, undefined, { 'x-project-id': '../../etc' });
  expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
  expect(h.simulator.calls).toHaveLength(0);
});
