import { SEED } from '../../src/simulator';
import { errorCodes, startHarness, type Harness } from '../support/harness';
import { NO_RESPONSE_CACHE } from './noCache';

/**
 * Unexpected errors are masked through real HTTP: an upstream engine whose `version` is an object
 * makes the String serializer throw — a gateway bug as far as a client is concerned.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ...NO_RESPONSE_CACHE, NODE_ENV: 'production', LOG_LEVEL: 'error' });
});
afterAll(async () => {
  await h.close();
});

it('masks an unexpected error as INTERNAL_SERVER_ERROR with a correlation id that is also in the log line', async () => {
  h.simulator.injectFault({
    route: 'getEngine',
    engineId: SEED.engines.big,
    status: 200,
    body: { id: SEED.engines.big, name: 'x', version: { secret: 'internal detail' } },
  });
  const response = await h.gql(`{ engine(id: "${SEED.engines.big}") { id version } other: engine(id: "${SEED.engines.single}") { id } }`, undefined, {
    'x-request-id': 'masked-1',
  });
  expect(errorCodes(response)).toEqual(['INTERNAL_SERVER_ERROR']);
  const error = response.body.errors![0]!;
  expect(error.message).toBe('Internal server error');
  expect(error.path).toEqual(['engine', 'version']);
  expect(error.extensions!.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  expect(response.text).not.toMatch(/internal detail|String cannot represent|stacktrace/);
  // The rest of the operation still resolves.
  expect(response.body.data.other).toEqual({ id: SEED.engines.single });
  const line = h.logs.find((entry) => entry.includes(error.extensions!.correlationId));
  expect(line).toBeDefined();
  expect(line).toMatch(/String cannot represent/);
  // The line names the request, though the masking only sees the error.
  expect(JSON.parse(line!).requestId).toBe('masked-1');
});

it('lets expected gateway errors through with their codes', async () => {
  const response = await h.gql('{ engine(id: "../etc") { id } }');
  expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
  expect(response.body.errors![0]!.message).toMatch(/not a valid engine id/);
});
