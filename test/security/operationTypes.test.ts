import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { postJson, send } from './http';

/**
 * Operation types the endpoint does not serve are the caller's mistake: a 4xx with a documented
 * code, not a masked INTERNAL_SERVER_ERROR with an error-level log line (alert noise).
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ NODE_ENV: 'production', LOG_LEVEL: 'info' });
});
afterAll(() => h.close());

it.each([
  [{ query: 'mutation { __typename }' }, 'mutation', /no mutations/],
  [{ query: 'subscription { jobUpdated(engineId: "e", id: "1") { id } }' }, 'subscription', /not served over HTTP.*WebSocket/],
  [{ query: 'query Q { __typename } mutation M { __typename }', operationName: 'M' }, 'mutation', /no mutations/],
])("%j → OPERATION_NOT_SUPPORTED, before any call, logged as the caller's error", async (body, operationType, message) => {
  const logged = h.logs.length;
  const calls = h.simulator.callCount();
  const response = await postJson(h.gateway.url, body);
  expect(response.status).toBe(200);
  const [error, ...others] = response.json().errors;
  expect(others).toEqual([]);
  expect(error.extensions).toEqual({ code: 'OPERATION_NOT_SUPPORTED', operationType });
  expect(error.message).toMatch(message);
  expect(h.simulator.callCount()).toBe(calls);
  const lines = h.logs.slice(logged).map((line) => JSON.parse(line));
  expect(lines.some((line) => ['error', 'fatal'].includes(line.level))).toBe(false);
  expect(lines.find((line) => line.msg === 'graphql operation')).toMatchObject({ errorCodes: ['OPERATION_NOT_SUPPORTED'], httpStatus: 200 });
});

it('a mutation over GET is refused by Apollo as such (405), as before', async () => {
  const response = await send(`${h.gateway.url}?query=${encodeURIComponent('mutation { __typename }')}`, {
    headers: { 'x-auth-token': DEMO_TOKEN, 'apollo-require-preflight': 'true' },
  });
  expect(response.status).toBe(405);
});
