import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { send } from '../security/http';

/**
 * A subscription over HTTP is refused the same way by GET and POST: OPERATION_NOT_SUPPORTED,
 * nothing run (not Apollo's own check, which would answer a GET 405 BAD_REQUEST).
 * A mutation over GET keeps Apollo's 405, which the GraphQL-over-HTTP spec asks for.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ LOG_LEVEL: 'debug' });
});
afterAll(() => h.close());

const SUBSCRIPTION = 'subscription { engineJobEvents(engineId: "e1") { kind } }';
const HEADERS = { 'x-auth-token': DEMO_TOKEN, 'apollo-require-preflight': '1' };

const get = (query: string) => send(`${h.gateway.url}?${new URLSearchParams({ query })}`, { headers: HEADERS });
const post = (query: string) =>
  send(h.gateway.url, { method: 'POST', headers: { ...HEADERS, 'content-type': 'application/json' }, body: JSON.stringify({ query }) });

it.each([
  ['GET', get],
  ['POST', post],
])('a subscription by %s: OPERATION_NOT_SUPPORTED, no upstream call, no error line', async (_method, request) => {
  const logged = h.logs.length;
  const calls = h.simulator.callCount();
  const response = await request(SUBSCRIPTION);
  expect(response.status).toBe(200);
  const [error, ...others] = response.json().errors;
  expect(others).toEqual([]);
  expect(error.extensions).toEqual({ code: 'OPERATION_NOT_SUPPORTED', operationType: 'subscription' });
  expect(error.message).toMatch(/WebSocket/);
  expect(h.simulator.callCount()).toBe(calls);
  expect(h.logs.slice(logged).filter((line) => /"level":"(error|fatal)"/.test(line))).toEqual([]);
});

it('a mutation by GET: 405, as the GraphQL-over-HTTP spec asks', async () => {
  const response = await get('mutation { nope }');
  expect(response.status).toBe(405);
  expect(response.headers.allow).toBe('POST');
});

it('a query by GET is still served', async () => {
  const response = await get('{ __typename }');
  expect(response.status).toBe(200);
  expect(response.json()).toEqual({ data: { __typename: 'Query' } });
});
