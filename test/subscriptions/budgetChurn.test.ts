import { DEMO_PROJECT_ID } from '@cse-jobs-gateway/simulator';
import { startGatewayOn, type GatewayHarness } from '../support/harness';
import { eventually, protocolSocket, sleep } from '../support/liveClient';
import { startFakeUpstream, type FakeUpstream } from '../support/upstream';

/**
 * A credential scope's SUBSCRIPTION_MAX_CALLS_PER_POLL holds across its watches' lives: a client
 * that subscribes, takes the first state, completes and subscribes again (to another engine: a new
 * poller each time) gets no fresh interval's calls when its last watch ends. Before, the scope's
 * budget went with its last watch and each new one started with the whole bound.
 */

const POLL_MS = 1000;
const MAX_CALLS = 2;
const JOB = new RegExp(`^/v2/${DEMO_PROJECT_ID}/enginemgr/engines/([^/]+)/jobs/1$`);

let upstream: FakeUpstream;
let gateway: GatewayHarness;
beforeAll(async () => {
  upstream = await startFakeUpstream((path) => {
    const engineId = JOB.exec(path)?.[1];
    if (engineId === undefined) return undefined;
    return JSON.stringify({ id: 1, engineId, status: 'Executing', description: 'd', tasks: [] });
  });
  const env = { SUBSCRIPTION_POLL_MS: String(POLL_MS), SUBSCRIPTION_MAX_CALLS_PER_POLL: String(MAX_CALLS) };
  gateway = await startGatewayOn(upstream, env);
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

const subscribe = (id: string, engineId: string) => ({
  type: 'subscribe',
  id,
  payload: { query: `subscription { jobUpdated(engineId: "${engineId}", id: "1") { id status } }` },
});

it('subscribe, first state, complete, again: at most the bound per interval', async () => {
  const socket = await protocolSocket(gateway.gateway.url);
  let subscribed = 0;
  let states = 0;
  const again = () => {
    subscribed += 1;
    socket.socket.send(JSON.stringify(subscribe(`s${subscribed}`, `e${subscribed}`)));
  };
  socket.socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id: string; type: string };
    if (message.type !== 'next' && message.type !== 'error') return;
    if (message.type === 'next') states += 1;
    socket.socket.send(JSON.stringify({ type: 'complete', id: message.id }));
    again();
  });
  upstream.calls.length = 0;
  const started = performance.now();
  // One at a time: each complete ends the scope's last watch.
  again();
  await sleep(2 * POLL_MS);
  const calls = upstream.calls.length;
  const intervals = Math.ceil((performance.now() - started) / POLL_MS);
  socket.socket.close();
  await eventually(() => gateway.gateway.subscriptions.sockets === 0, 'the socket closed');
  // The budget's intervals start at multiples of POLL_MS: the run reaches into at most one more.
  expect(calls).toBeLessThanOrEqual(MAX_CALLS * (intervals + 1));
  // The churn went on: each interval's calls served first states.
  expect(states).toBeGreaterThanOrEqual(MAX_CALLS);
});
