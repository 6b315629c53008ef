import WebSocket from 'ws';
import { gatewayEnv } from '../../bench/servers';
import { DEMO_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { gatewayProcessSuite } from '../support/gatewayProcess';

/**
 * What a subscriber keeps of the last result it was sent (so that it is never sent the same one twice)
 * is a digest, not the result's text: one caller's 200 subscriptions to a job with a 900 KB context, each
 * under an alias of its own (a view of its own), kept 180 MB of texts. Here in a gateway process whose
 * heap is 128 MB (and sockets that may hold 25 such results each), every one of them is sent the job, and
 * the process lives on.
 */
const SOCKETS = 8;
const PER_SOCKET = 25;
const CONTEXT = 'x'.repeat(900 * 1024);

const suite = gatewayProcessSuite();
const sockets: WebSocket[] = [];

afterAll(() => {
  for (const socket of sockets) socket.terminate();
});

it(`sends ${SOCKETS * PER_SOCKET} subscribers of their own views a 900 KB job, within a small heap`, async () => {
  const gateway = await suite.start({ ...gatewayEnv(suite.simulator.url, 'default'), SUBSCRIPTION_POLL_MS: '200', SUBSCRIPTION_MAX_BUFFERED_BYTES: String(32 * 1024 * 1024) }, ['--max-old-space-size=128']);
  const engineId = SEED.engines.onePage;
  const job = suite.simulator.startJob(engineId, { context: CONTEXT });
  let received = 0;
  for (let s = 0; s < SOCKETS; s += 1) {
    const socket = new WebSocket(gateway.url.href.replace(/^http/, 'ws'), 'graphql-transport-ws');
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { 'X-Auth-Token': DEMO_TOKEN } })));
      socket.once('message', () => resolve());
    });
    socket.on('message', (data: Buffer) => {
      if (data.length > CONTEXT.length) received += 1;
    });
    for (let i = 0; i < PER_SOCKET; i += 1) {
      const query = `subscription ($e: ID!, $id: ID!) { jobUpdated(engineId: $e, id: $id) { id s${s}v${i}: context } }`;
      socket.send(JSON.stringify({ type: 'subscribe', id: String(i), payload: { query, variables: { e: engineId, id: String(job.id) } } }));
    }
  }
  const deadline = Date.now() + 60_000;
  while (received < SOCKETS * PER_SOCKET && Date.now() < deadline && gateway.child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(received).toBe(SOCKETS * PER_SOCKET);
  expect(gateway.child.exitCode).toBeNull();
}, 120_000);
