import { connect } from 'node:net';
import { DEMO_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';
import { postJson, send } from './http';

/**
 * Requests built to break the gateway in ways the first round of hardening did not cover (found by
 * attacking a production build): each is a clear 4xx, or bounded, never a 500 or a call too many.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ...CACHES_OFF, NODE_ENV: 'production', LOG_LEVEL: 'error', ALLOW_BATCHING: 'true', MAX_BATCH_OPERATIONS: '3' });
  await h.gql('{ engines(first: 1) { totalCount } }');
});
afterAll(() => h.close());
beforeEach(() => h.simulator.resetCalls());

const errorLines = () => h.logs.filter((line) => ['error', 'fatal'].includes(JSON.parse(line).level));

it('an operationName the document does not have is OPERATION_RESOLUTION_FAILURE, and nothing runs', async () => {
  const before = errorLines().length;
  const response = await postJson(h.gateway.url, { query: '{ engines(first: 5) { nodes { latestJob { id } } } }', operationName: 'Nope' });
  expect(response.status).toBe(200);
  expect(response.json().errors[0].extensions.code).toBe('OPERATION_RESOLUTION_FAILURE');
  expect(h.simulator.callCount()).toBe(0);
  expect(errorLines().length).toBe(before);
});

it.each([
  // As JSON text: the test's own JSON.stringify could not write an array this deep.
  ['a deeply nested array', `${'['.repeat(5000)}${']'.repeat(5000)}`],
  ['an object', '{"a":1}'],
  ['a number', '7'],
])('an APQ hash that is %s is a 400, not a crash', async (_what, sha256Hash) => {
  const before = errorLines().length;
  const extensions = `{"persistedQuery":{"version":1,"sha256Hash":${sha256Hash}}}`;
  const response = await send(h.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_TOKEN },
    body: `{"extensions":${extensions}}`,
  });
  expect(response.status).toBe(400);
  expect(response.json().errors[0].extensions.code).toBe('BAD_REQUEST');
  expect(errorLines().length).toBe(before);
  // The same over GET, where extensions are a query parameter.
  const query = new URLSearchParams({ extensions });
  const viaGet = await send(`${h.gateway.url}?${query}`, { headers: { 'x-auth-token': DEMO_TOKEN, 'apollo-require-preflight': 'true' } });
  // 400, or 431 where the URL itself is past Node's header limit: never a 500.
  expect([400, 431]).toContain(viaGet.status);
});

it('a batch of more than MAX_BATCH_OPERATIONS operations is refused whole', async () => {
  const operation = { query: '{ engines(first: 1) { totalCount } }' };
  const within = await postJson(h.gateway.url, [operation, operation, operation]);
  expect(within.status).toBe(200);
  const calls = h.simulator.callCount();
  const over = await postJson(h.gateway.url, [operation, operation, operation, operation]);
  expect(over.status).toBe(400);
  expect(over.json().errors[0].message).toMatch(/at most 3 operations/);
  expect(h.simulator.callCount()).toBe(calls);
});

it('forged cursors cannot make a connection call the upstream more often than the estimate counted', async () => {
  const page = await h.gql(`{ engine(id: "${SEED.engines.big}") { jobs(first: 3) { edges { cursor } } } }`);
  const genuine: string = page.body.data.engine.jobs.edges[2].cursor;
  const [version, key] = Buffer.from(genuine, 'base64url').toString('utf8').split('|');
  const forge = (position: number) => Buffer.from(`${version}|${key}|${position}|999999999`, 'utf8').toString('base64url');
  h.simulator.resetCalls();
  const one = `jobs(first: 0, after: "${forge(7)}", before: "${forge(199)}") { totalCount }`;
  const response = await h.gql(`{ engine(id: "${SEED.engines.big}") { ${one} } }`);
  expect(response.body.errors).toBeUndefined();
  // One field: at most its budget of 9 (both cursors), and the estimate counts that budget.
  expect(h.simulator.callCount()).toBeLessThanOrEqual(9);
  const thirty = Array.from({ length: 30 }, (_, i) => `f${i}: ${one.replace(forge(7), forge(7 + i)).replace(forge(199), forge(199 - i))}`).join(' ');
  h.simulator.resetCalls();
  const refused = await h.gql(`{ engine(id: "${SEED.engines.big}") { ${thirty} } }`);
  expect(errorCodes(refused)).toEqual(['QUERY_TOO_COMPLEX']);
  expect(h.simulator.callCount()).toBe(0);
});

it('an upstream id too long for a cursor fails its connection as UPSTREAM_BAD_RESPONSE, not a masked error', async () => {
  h.simulator.injectFault({ route: 'listEngines', status: 200, body: { total: 1, data: [{ id: `e${'x'.repeat(400)}`, name: 'n' }] }, times: 1 });
  const response = await h.gql('{ engines(first: 3) { totalCount } }');
  expect(errorCodes(response)).toEqual(['UPSTREAM_BAD_RESPONSE']);
});

it.each(['/healthz', '/nope'])('a body sent to %s is not drained: the connection is closed after the answer', async (path) => {
  const socket = connect(h.gateway.port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += String(chunk)));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${1024 * 1024 * 1024}\r\n\r\n`);
  socket.write('x'.repeat(64 * 1024));
  await closed;
  expect(received).toMatch(/^HTTP\/1\.1 (200|404|405)/);
  expect(received).toMatch(/connection: close/i);
});
