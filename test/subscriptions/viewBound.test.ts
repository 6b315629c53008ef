import { SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';
import { eventually, protocolSocket } from '../support/liveClient';

/**
 * A subscriber's result is its own keys over its group's one execution, or its document's own execution
 * when the document asks for one field under several aliases (each repeats the field's value). A result
 * past SUBSCRIPTION_MAX_BUFFERED_BYTES ends that subscription alone with RESPONSE_TOO_LARGE, before it is
 * written; the socket and its other subscriptions go on.
 */

const MAX = 64 * 1024;
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ...CACHES_OFF, SUBSCRIPTION_MAX_BUFFERED_BYTES: String(MAX), SUBSCRIPTION_POLL_MS: '100' });
});
afterAll(() => h.close());

const watch = (aliases: number) =>
  `subscription ($e: ID!, $id: ID!) { jobUpdated(engineId: $e, id: $id) { id status ${Array.from({ length: aliases }, (_, i) => `c${i}: context`).join(' ')} } }`;

it("ends a subscription whose aliases repeat a field past the socket's bound, and no other", async () => {
  const engineId = SEED.engines.onePage;
  const job = h.simulator.startJob(engineId, { context: 'x'.repeat(20_000) });
  const variables = { e: engineId, id: String(job.id) };
  const ws = await protocolSocket(h.gateway.url);
  try {
    // One alias fits; 29 copies of 20 KB do not (a document asking for one field under several aliases
    // is executed as itself, not shared).
    ws.socket.send(JSON.stringify({ type: 'subscribe', id: 'fits', payload: { query: watch(1), variables } }));
    await eventually(() => ws.received.some((message) => message.id === 'fits'), "the first member's state");
    ws.socket.send(JSON.stringify({ type: 'subscribe', id: 'repeats', payload: { query: watch(29), variables } }));
    await eventually(() => ws.received.some((message) => message.id === 'repeats'), "the second member's answer");
    const [answer, ...more] = ws.received.filter((message) => message.id === 'repeats');
    expect(more).toEqual([]);
    expect(answer).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'RESPONSE_TOO_LARGE', reason: 'SENT_BYTES', limit: MAX } }] });
    expect(ws.received.find((message) => message.id === 'fits')).toMatchObject({ type: 'next', payload: { data: { jobUpdated: { c0: 'x'.repeat(20_000) } } } });
    // The socket stays, and the other subscription keeps its events.
    h.simulator.advanceJob(engineId, String(job.id), { to: 'Finished' });
    await eventually(() => ws.received.some((message) => message.id === 'fits' && message.payload?.data?.jobUpdated?.status === 'FINISHED'), 'the next state');
    expect(ws.socket.readyState).toBe(ws.socket.OPEN);
  } finally {
    ws.socket.close();
  }
});

it('ends it the same way when a later event grows past the bound', async () => {
  const engineId = SEED.engines.onePage;
  const job = h.simulator.startJob(engineId, { context: 'small' });
  const variables = { e: engineId, id: String(job.id) };
  const ws = await protocolSocket(h.gateway.url);
  try {
    ws.socket.send(JSON.stringify({ type: 'subscribe', id: 'repeats', payload: { query: watch(29), variables } }));
    await eventually(() => ws.received.some((message) => message.id === 'repeats'), 'the first state');
    expect(ws.received[0]).toMatchObject({ type: 'next', payload: { data: { jobUpdated: { c28: 'small' } } } });
    h.simulator.updateJob(engineId, String(job.id), { context: 'x'.repeat(20_000) });
    await eventually(() => ws.received.some((message) => message.id === 'repeats' && message.type === 'error'), 'the refusal');
    expect(ws.received.at(-1)).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'RESPONSE_TOO_LARGE', limit: MAX } }] });
    expect(ws.socket.readyState).toBe(ws.socket.OPEN);
  } finally {
    ws.socket.close();
  }
});

it('answers aliases of one field with different selections as the document itself would: a failure under one nulls that one', async () => {
  const engineId = SEED.engines.onePage;
  const job = h.simulator.startJob(engineId);
  const removeFault = h.simulator.injectFault({ route: 'listJobs', status: 500 });
  const ws = await protocolSocket(h.gateway.url);
  try {
    const query = 'subscription ($e: ID!, $id: ID!) { jobUpdated(engineId: $e, id: $id) { id e1: engine { id } e2: engine { id jobs(first: 3) { totalCount } } } }';
    ws.socket.send(JSON.stringify({ type: 'subscribe', id: 'a', payload: { query, variables: { e: engineId, id: String(job.id) } } }));
    await eventually(() => ws.received.some((message) => message.id === 'a'), 'the first state');
    const [first] = ws.received;
    expect(first.payload.data.jobUpdated.e1).toEqual({ id: engineId });
    expect(first.payload.data.jobUpdated.e2).toBeNull();
    expect(first.payload.errors.map((error: { path: unknown[] }) => error.path)).toEqual([['jobUpdated', 'e2', 'jobs']]);
  } finally {
    removeFault();
    ws.socket.close();
  }
});
