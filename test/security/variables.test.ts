import { SEED } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { eventually, protocolSocket } from '../support/liveClient';

/**
 * Variables that do not coerce are refused by admission, over HTTP and WebSocket alike, with one
 * BAD_USER_INPUT error of bounded size: graphql-js's coercion reports up to 50 errors, each quoting
 * the whole value, so 20,000 unknown keys once cost seconds and answered megabytes.
 */

const engineId = SEED.engines.onePage;
const KEYS = 20_000;
const filter = Object.fromEntries(Array.from({ length: KEYS }, (_, i) => [`k${i}`, 1]));

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ NODE_ENV: 'production', LOG_LEVEL: 'warn' });
});
afterAll(() => h.close());

it(`answers ${KEYS} unknown keys of an input object over HTTP with one short BAD_USER_INPUT, before any upstream call`, async () => {
  h.simulator.resetCalls();
  const query = 'query ($id: ID!, $f: JobFilter) { engine(id: $id) { jobs(first: 2, filter: $f) { totalCount } } }';
  const response = await h.gql(query, { id: engineId, f: filter });
  expect(response.status).toBe(200);
  expect(response.body.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  expect(response.body.errors![0]!.message).toMatch(/^Variable "\$f" got invalid value \{ k0: 1,.*…; Field "k0" is not defined by type "JobFilter"\.$/s);
  expect(response.text.length).toBeLessThan(2_000);
  expect(h.simulator.callCount()).toBe(0);
});

it('answers the same over WebSocket, without suggestions in production, and the socket stays open', async () => {
  const query = 'subscription ($id: ID!, $e: ID!, $f: JobFilter) { jobUpdated(engineId: $e, id: $id) { engine { jobs(first: 1, filter: $f) { totalCount } } } }';
  const socket = await protocolSocket(h.gateway.url);
  const logged = h.logs.length;
  socket.burst([{ type: 'subscribe', id: 'keys', payload: { query, variables: { id: '1', e: engineId, f: filter } } }]);
  socket.burst([{ type: 'subscribe', id: 'typo', payload: { query, variables: { id: '1', e: engineId, f: { form: '2024-01-01T00:00:00Z' } } } }]);
  await eventually(() => socket.received.length >= 2, 'both answers');
  const [keys, typo] = socket.received as Array<{ id: string; type: string; payload: Array<{ message: string; extensions: { code: string } }> }>;
  expect(keys).toMatchObject({ id: 'keys', type: 'error', payload: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
  expect(keys!.payload).toHaveLength(1);
  expect(JSON.stringify(keys).length).toBeLessThan(2_000);
  expect(typo).toMatchObject({ id: 'typo', type: 'error', payload: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
  expect(typo!.payload[0]!.message).toContain('Field "form" is not defined by type "JobFilter"');
  expect(typo!.payload[0]!.message).not.toMatch(/Did you mean/);
  expect(socket.socket.readyState).toBe(socket.socket.OPEN);
  socket.socket.close();
  expect(h.logs.slice(logged).filter((line) => JSON.parse(line).level > 40)).toEqual([]);
});
