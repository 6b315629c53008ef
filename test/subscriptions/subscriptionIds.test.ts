import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { SEED } from '@cse-jobs-gateway/simulator';
import { MAX_ID_LENGTH } from '../../src/subscriptions/subscriptionServer';
import { startHarness, type Harness } from '../support/harness';
import { eventually, protocolSocket } from '../support/liveClient';

/**
 * graphql-ws keeps a subscription's id for its life and repeats it in every result: an id longer
 * than MAX_ID_LENGTH closes the socket with 4400 before anything of it is kept (no subscription
 * counted, no log line, no event); a client's real ids (UUIDs) are served.
 */

const engineId = SEED.engines.onePage;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ LOG_LEVEL: 'info', SUBSCRIPTION_POLL_MS: '100' });
});
afterAll(() => h.close());

async function badRequestSockets(): Promise<number> {
  const text = await (await request(h.gateway.url.replace(/\/graphql$/, '/metrics'))).body.text();
  return Number(/^gateway_subscription_sockets_refused_total\{reason="bad_request"\} (\S+)$/m.exec(text)?.[1] ?? 0);
}

function subscribe(id: string, jobId: string) {
  const query = 'subscription ($e: ID!, $id: ID!) { jobUpdated(engineId: $e, id: $id) { id status } }';
  return { type: 'subscribe', id, payload: { query, variables: { e: engineId, id: jobId } } };
}

it.each([
  ['a UUID', randomUUID()],
  [`${MAX_ID_LENGTH} characters`, 'i'.repeat(MAX_ID_LENGTH)],
])('%s: the subscription is served', async (_name, id) => {
  const job = h.simulator.startJob(engineId);
  const socket = await protocolSocket(h.gateway.url);
  socket.burst([subscribe(id, String(job.id))]);
  await eventually(() => socket.received.length > 0, 'the first state');
  expect(socket.received[0]).toMatchObject({ type: 'next', id, payload: { data: { jobUpdated: { id: String(job.id) } } } });
  socket.socket.close();
  await eventually(() => h.gateway.subscriptions.sockets === 0, 'the socket closed');
});

it.each([
  [`${MAX_ID_LENGTH + 1} characters`, MAX_ID_LENGTH + 1],
  ['200 KB', 200 * 1024],
])('an id of %s: the socket is closed with 4400, nothing of the subscription kept', async (_name, length) => {
  const job = h.simulator.startJob(engineId);
  const socket = await protocolSocket(h.gateway.url);
  const logged = h.logs.length;
  const refused = await badRequestSockets();
  const id = 'i'.repeat(length);
  // A burst: what follows the refused subscribe on the closing socket is refused as well.
  socket.burst([subscribe(id, String(job.id)), subscribe(`${id}-2`, String(job.id))]);
  await eventually(() => h.gateway.subscriptions.sockets === 0, 'the socket closed');
  expect(await socket.closed).toBe(4400);
  expect(h.gateway.subscriptions.active).toBe(0);
  expect(socket.received).toEqual([]);
  // One socket refused, however many of its messages followed.
  expect(await badRequestSockets()).toBe(refused + 1);
  expect(h.logs.slice(logged).filter((line) => line.includes('subscription started'))).toEqual([]);
});

it('an id completed and subscribed again at once: the new subscribe is served once the first has ended, with no `complete` it would take as its own', async () => {
  const job = h.simulator.startJob(engineId);
  const socket = await protocolSocket(h.gateway.url);
  socket.burst([subscribe('a', String(job.id))]);
  await eventually(() => socket.received.length > 0, 'the first state');
  // One write: the gateway reads both in one pass, and hands each to graphql-ws in its own turn.
  socket.burst([{ type: 'complete', id: 'a' }, subscribe('a', String(job.id))]);
  await eventually(() => socket.received.length > 1, 'an answer to the second subscribe');
  // Long enough for a `complete` sent after it to arrive.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(socket.received.slice(1)).toEqual([expect.objectContaining({ type: 'next', id: 'a', payload: { data: { jobUpdated: expect.objectContaining({ id: String(job.id) }) } } })]);
  expect(h.gateway.subscriptions.active).toBe(1);
  socket.socket.close();
  await eventually(() => h.gateway.subscriptions.sockets === 0, 'the socket closed');
});
