import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type WebSocket from 'ws';
import { SEED } from '@cse-jobs-gateway/simulator';
import { nextFrameId } from '../../src/subscriptions/subscriptionServer';
import { startHarness, type Harness } from '../support/harness';
import { eventually, protocolSocket, sleep } from '../support/liveClient';

/**
 * What a subscription's socket keeps must stay bounded by its live operations: neither the
 * operations a paused reader has completed or had refused, nor the results a long-lived
 * subscription has already sent, may stay in memory.
 */

const POLL_MS = 100;
const engineId = SEED.engines.onePage;
const WATCH = `subscription($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id context } }`;

function subscribe(socket: WebSocket, id: string, query: string, jobId?: string): void {
  socket.send(JSON.stringify({ type: 'subscribe', id, payload: { query, variables: jobId === undefined ? undefined : { engineId, id: jobId } } }));
}

const pause = (socket: WebSocket) => (socket as unknown as { _socket: { pause(): void } })._socket.pause();
const resume = (socket: WebSocket) => (socket as unknown as { _socket: { resume(): void } })._socket.resume();

describe('nextFrameId', () => {
  it.each([
    ['{"id":"1","type":"next","payload":{}}', '1'],
    ['{"id":"a\\"b\\\\","type":"next","payload":{}}', 'a"b\\'],
    ['{"id":"1","type":"error","payload":[]}', undefined],
    ['{"id":"1","type":"complete"}', undefined],
    ['{"type":"connection_ack"}', undefined],
  ])('%s → %s', (frame, id) => {
    expect(nextFrameId(frame)).toBe(id);
  });
});

describe('a paused reader that keeps subscribing', () => {
  let h: Harness;
  beforeAll(async () => {
    // A bound the test never reaches, no keep-alive: the socket stays open however much waits.
    h = await startHarness({ SUBSCRIPTION_POLL_MS: String(POLL_MS), SUBSCRIPTION_MAX_BUFFERED_BYTES: String(256 * 1024 * 1024), SUBSCRIPTION_KEEPALIVE_MS: '0' });
  });
  afterAll(() => h.close());

  it('holds no sender of a refused or completed operation: only its live ones wait, and a completed id is free again', async () => {
    const job = h.simulator.startJob(engineId);
    const { socket, received } = await protocolSocket(h.gateway.url);
    subscribe(socket, 'live', WATCH, String(job.id));
    await eventually(() => received.some((message) => message.id === 'live' && message.type === 'next'), 'first state');
    pause(socket);
    // Refusals whose frames (their messages repeat the long field name) fill the kernel's buffers: later writes wait.
    const unknownField = `{ ${'x'.repeat(100_000)} }`;
    for (let i = 0; i < 200; i += 1) subscribe(socket, `refused${i}`, unknownField);
    await sleep(200);
    // Operations that start (their first state is sent, and waits), then are completed.
    const cycles = 40;
    for (let i = 0; i < cycles; i += 1) {
      subscribe(socket, `c${i}`, WATCH, String(job.id));
      await sleep(30);
      socket.send(JSON.stringify({ type: 'complete', id: `c${i}` }));
    }
    await eventually(() => h.gateway.subscriptions.active === 1, 'the completed ones ended');
    // Each waiting sender holds its operation's message: only the live operation's may wait.
    await eventually(() => h.gateway.subscriptions.sendsWaiting <= 1, 'only the live operation waits');
    resume(socket);
    // graphql-ws ends its own bookkeeping of an operation after the stream has ended: an id reused before
    // that is refused as still ending, and on a loaded host that takes a moment. Asked again until then.
    const c0 = (type: string) => received.filter((message) => message.id === 'c0' && message.type === type);
    for (let attempt = 0; c0('next').length === 0; attempt += 1) {
      expect(attempt).toBeLessThan(20);
      const refused = c0('error').length;
      subscribe(socket, 'c0', WATCH, String(job.id));
      await eventually(() => c0('next').length > 0 || c0('error').length > refused, 'c0 answered', 20_000);
      if (c0('next').length === 0) await sleep(200);
    }
    for (const error of c0('error')) expect(error.payload[0].message).toMatch(/still ending/);
    socket.close();
  }, 60_000);
});

describe('a long-lived subscription', () => {
  const CONTEXT_BYTES = 512 * 1024;
  let h: Harness;
  beforeAll(async () => {
    // The shortest poll: each change is read as soon as it can be.
    h = await startHarness({ SUBSCRIPTION_POLL_MS: '50', SUBSCRIPTION_KEEPALIVE_MS: '0' });
  });
  afterAll(() => h.close());

  it('keeps none of the results it has sent', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heapUsed = () => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const job = h.simulator.startJob(engineId);
    const { socket, received } = await protocolSocket(h.gateway.url);
    subscribe(socket, 'live', WATCH, String(job.id));
    const states = () => received.filter((message) => message.id === 'live' && message.type === 'next').length;
    await eventually(() => states() === 1, 'first state');
    const before = heapUsed();
    // Kept, they would pass the bound four times over: more changes would prove no more.
    const changes = 30;
    for (let n = 1; n <= changes; n += 1) {
      h.simulator.updateJob(engineId, job.id, { context: `${n}${'x'.repeat(CONTEXT_BYTES)}` });
      await eventually(() => states() === n + 1, `state ${n}`);
    }
    h.simulator.updateJob(engineId, job.id, { context: 'small' });
    await eventually(() => states() === changes + 2, 'the last state');
    received.length = 0;
    // Sent, the results are garbage (the client's copies too): the heap is back near where it was.
    expect(heapUsed() - before).toBeLessThan((changes * CONTEXT_BYTES) / 4);
    expect(h.gateway.subscriptions.active).toBe(1);
    socket.close();
  }, 60_000);
});
