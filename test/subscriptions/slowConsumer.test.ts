import type WebSocket from 'ws';
import { DEMO_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { closed, eventually, rawSocket, sleep } from '../support/liveClient';

/**
 * A reader that stops reading must cost the gateway a bounded amount of memory: sends wait for the
 * socket, so what it has not read conflates to the newest state per subscription; a socket whose
 * send buffer still passes SUBSCRIPTION_MAX_BUFFERED_BYTES is closed (1008).
 */

const POLL_MS = 50;
const engineId = SEED.engines.onePage;
const CONTEXT_BYTES = 512 * 1024;
const WATCH = `subscription($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id context } }`;

/** A connected, acknowledged raw socket, and every `next` payload it reads. */
async function connect(h: Harness): Promise<{ socket: WebSocket; received: any[] }> {
  const socket = rawSocket(h.gateway.url);
  const received: any[] = [];
  await new Promise((resolve) => socket.once('open', resolve));
  const acked = new Promise((resolve) => socket.once('message', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { 'X-Auth-Token': DEMO_TOKEN } }));
  await acked;
  socket.on('message', (data) => {
    const message = JSON.parse(String(data));
    if (message.type === 'next') received.push(message.payload);
  });
  return { socket, received };
}

function subscribe(socket: WebSocket, id: string, jobId: string | number): void {
  socket.send(JSON.stringify({ type: 'subscribe', id, payload: { query: WATCH, variables: { engineId, id: String(jobId) } } }));
}

/** Stops reading the TCP stream: the kernel's buffers fill, then the gateway's sends wait. */
const pause = (socket: WebSocket) => (socket as unknown as { _socket: { pause(): void } })._socket.pause();
const resume = (socket: WebSocket) => (socket as unknown as { _socket: { resume(): void } })._socket.resume();

const context = (n: number) => `${String(n).padStart(8, '0')}${'x'.repeat(CONTEXT_BYTES)}`;

async function metric(h: Harness, name: string): Promise<number> {
  const text = await fetch(h.gateway.url.replace('/graphql', '/metrics')).then((response) => response.text());
  const line = text.split('\n').find((row) => row.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

describe('a paused reader', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ SUBSCRIPTION_POLL_MS: String(POLL_MS), SUBSCRIPTION_MAX_BUFFERED_BYTES: String(64 * 1024 * 1024) });
  });
  afterAll(() => h.close());

  it('gets the newest state when it reads again, having missed the ones in between (conflated)', async () => {
    const job = h.simulator.startJob(engineId);
    h.simulator.updateJob(engineId, job.id, { context: context(0) });
    const { socket, received } = await connect(h);
    subscribe(socket, '1', job.id);
    await eventually(() => received.length === 1, 'first state');
    pause(socket);
    // Changes until five have been dropped (the kernel's buffers take the first ones), counted
    // rather than a fixed number a loaded host may not get through its buffers with.
    const conflated = () => metric(h, 'gateway_subscription_events_conflated_total');
    let changes = 0;
    while (changes < 200 && (await conflated()) < 5) {
      changes += 1;
      h.simulator.updateJob(engineId, job.id, { context: context(changes) });
      await sleep(POLL_MS);
    }
    expect(await conflated()).toBeGreaterThan(0);
    resume(socket);
    await eventually(() => received.at(-1)?.data.jobUpdated.context.startsWith(String(changes).padStart(8, '0')), 'the newest state', 10_000);
    // Fewer results than changes: the in-between states were dropped, never queued.
    expect(received.length).toBeLessThan(changes);
    const heads = received.map((payload) => Number(payload.data.jobUpdated.context.slice(0, 8)));
    expect([...heads].sort((a, b) => a - b)).toEqual(heads); // in order, never an older one after a newer
    socket.close();
  }, 30_000);
});

describe('a send buffer past SUBSCRIPTION_MAX_BUFFERED_BYTES', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ SUBSCRIPTION_POLL_MS: String(POLL_MS), SUBSCRIPTION_MAX_BUFFERED_BYTES: String(1024 * 1024) });
  });
  afterAll(() => h.close());

  it('closes the socket with 1008, and the other sockets go on', async () => {
    const jobs = Array.from({ length: 6 }, () => h.simulator.startJob(engineId));
    const slow = await connect(h);
    const fine = await connect(h);
    jobs.forEach((job, i) => subscribe(slow.socket, String(i), job.id));
    subscribe(fine.socket, 'f', jobs[0]!.id);
    await eventually(() => slow.received.length === jobs.length && fine.received.length === 1, 'first states');
    pause(slow.socket);
    const gone = closed(slow.socket);
    const slowConsumers = () => metric(h, 'gateway_subscription_sockets_refused_total{reason="slow_consumer"}');
    let n = 0;
    while ((await slowConsumers()) === 0 && n < 200) {
      n += 1;
      for (const job of jobs) h.simulator.updateJob(engineId, job.id, { context: context(n) });
      await sleep(POLL_MS);
    }
    expect(await slowConsumers()).toBe(1);
    resume(slow.socket);
    // 1008 when the close frame gets through; 1006 when it sat behind the unread data and the
    // gateway dropped the connection after its closing handshake timed out.
    expect([1006, 1008]).toContain((await gone).code);
    // The healthy reader still gets each change.
    const before = fine.received.length;
    h.simulator.updateJob(engineId, jobs[0]!.id, { context: 'after' });
    await eventually(() => fine.received.length > before && fine.received.at(-1).data.jobUpdated.context === 'after', 'the healthy reader goes on');
    await eventually(() => h.gateway.subscriptions.active === 1, 'the slow socket’s subscriptions ended');
    fine.socket.close();
  }, 60_000);
});

describe('results waiting for a paused reader, past SUBSCRIPTION_MAX_BUFFERED_BYTES', () => {
  const BOUND = 2 * 1024 * 1024;
  const EVENTS = `subscription($engineId: ID!) { engineJobEvents(engineId: $engineId) { kind job { id context } } }`;
  let h: Harness;
  beforeAll(async () => {
    // No keep-alive: the paused reader must be cut off for its pending bytes, not for a missed pong.
    h = await startHarness({ SUBSCRIPTION_POLL_MS: String(POLL_MS), SUBSCRIPTION_MAX_BUFFERED_BYTES: String(BOUND), SUBSCRIPTION_KEEPALIVE_MS: '0' });
  });
  afterAll(() => h.close());

  it('count against the bound with the send buffer: the socket is closed with 1008, and what waits stays bounded', async () => {
    const jobs = Array.from({ length: 6 }, () => h.simulator.startJob(engineId));
    const slow = await connect(h);
    slow.socket.send(JSON.stringify({ type: 'subscribe', id: 'e', payload: { query: EVENTS, variables: { engineId } } }));
    // The subscription runs once the first change of a job reaches it.
    await eventually(() => h.gateway.subscriptions.active === 1, 'subscribed');
    pause(slow.socket);
    const gone = closed(slow.socket);
    let isClosed = false;
    void gone.then(() => (isClosed = true));
    let most = 0;
    // Only one frame per subscription is ever in the send buffer (sends wait for the socket):
    // without counting the pending results, the bound is never reached and they pile up instead.
    for (let n = 1; n <= 60 && !isClosed; n += 1) {
      for (const job of jobs) h.simulator.updateJob(engineId, job.id, { context: context(n) });
      await sleep(POLL_MS);
      most = Math.max(most, h.gateway.subscriptions.pendingBytes);
    }
    expect(await metric(h, 'gateway_subscription_sockets_refused_total{reason="slow_consumer"}')).toBe(1);
    resume(slow.socket);
    expect([1006, 1008]).toContain((await gone).code);
    // What waited never passed the bound by more than the one result that crossed it.
    expect(most).toBeLessThanOrEqual(BOUND + CONTEXT_BYTES + 4096);
    await eventually(() => h.gateway.subscriptions.active === 0, 'the slow socket’s subscription ended');
    expect(h.gateway.subscriptions.pendingBytes).toBe(0);
  }, 60_000);
});
