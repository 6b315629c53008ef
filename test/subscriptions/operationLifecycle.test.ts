import fc from 'fast-check';
import { request } from 'undici';
import { SEED } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { collect, eventually, liveClient, protocolSocket, sleep, type ProtocolSocket } from '../support/liveClient';

/**
 * Each subscribe the gateway admits is counted until that operation ends, once, whatever the
 * order of subscribe, complete and close messages and however they are split over writes; and a
 * closed socket leaves no subscription, poller or counter behind.
 */

const POLL_MS = 100;
const ENGINES = [SEED.engines.single, SEED.engines.onePage, SEED.engines.onePagePlusOne, SEED.engines.empty];
const EVENTS = `subscription Events($engineId: ID!) { engineJobEvents(engineId: $engineId) { kind job { id } } }`;

const subscribe = (id: string, engineId: string) => ({ type: 'subscribe', id, payload: { query: EVENTS, variables: { engineId } } });
const complete = (id: string) => ({ type: 'complete', id });

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ SUBSCRIPTION_POLL_MS: String(POLL_MS), SUBSCRIPTION_MAX_PER_CONNECTION: '3', SUBSCRIPTION_MAX_TOTAL: '40' });
});
afterAll(() => h.close());

async function pollers(): Promise<number> {
  const text = await (await request(h.gateway.url.replace(/\/graphql$/, '/metrics'))).body.text();
  return Number(/^gateway_subscription_pollers_active (\S+)$/m.exec(text)?.[1]);
}

/** Waits until the gateway holds nothing: no socket, no subscription, no poller, no upstream call over two poll intervals. */
async function settledEmpty(): Promise<void> {
  await eventually(() => h.gateway.subscriptions.sockets === 0 && h.gateway.subscriptions.active === 0, 'every socket and subscription gone');
  const until = Date.now() + 3000;
  while ((await pollers()) !== 0) {
    if (Date.now() > until) throw new Error(`${await pollers()} pollers still running`);
    await sleep(20);
  }
  // A poll already sent lands within two intervals, loaded host included: from then on, no upstream call.
  await sleep(2 * POLL_MS);
  h.simulator.resetCalls();
  await sleep(2 * POLL_MS);
  expect(h.simulator.callCount()).toBe(0);
}

it('a burst of subscribe and complete under one id, from a made-up token, leaves no subscription counted', async () => {
  const socket = await protocolSocket(h.gateway.url, { 'X-Auth-Token': 'made-up-token-0123456789' });
  socket.burst(Array.from({ length: 300 }, () => [subscribe('x', ENGINES[0]!), complete('x')]).flat());
  await eventually(() => h.gateway.subscriptions.active === 0, 'the burst to wind down');
  socket.socket.close();
  await settledEmpty();
  // Anyone may still subscribe: SUBSCRIPTION_MAX_TOTAL was not used up.
  const client = liveClient(h.gateway.url);
  const sub = collect(client, EVENTS, { engineId: ENGINES[1] });
  await eventually(() => h.gateway.subscriptions.active === 1, 'a new subscription');
  expect(sub.results.filter((result) => result.errors !== undefined)).toEqual([]);
  sub.stop();
  await client.dispose();
  await settledEmpty();
});

it('subscribe and complete repeated per engine, then one subscribe each, in one write: no more than the per-socket limit live, none after the close', async () => {
  const socket = await protocolSocket(h.gateway.url);
  const messages = ENGINES.flatMap((engineId, index) => [
    ...Array.from({ length: 10 }, () => [subscribe(`e${index}`, engineId), complete(`e${index}`)]).flat(),
    subscribe(`e${index}`, engineId),
  ]);
  socket.burst(messages);
  // Every message answered, then the count settles (a loaded host takes its time over the burst).
  await answered(socket);
  const live = () => liveIds([...messages.map(sent), ...socket.received.map(received)]).size;
  await eventually(() => h.gateway.subscriptions.active === live(), `active ${h.gateway.subscriptions.active} to equal ${live()}`, 3000);
  expect(h.gateway.subscriptions.active).toBeLessThanOrEqual(3);
  expect(h.gateway.subscriptions.active).toBe(live());
  socket.socket.close();
  await settledEmpty();
});

type Entry = { readonly sent: boolean; readonly message: any };
const sent = (message: unknown): Entry => ({ sent: true, message });
const received = (message: unknown): Entry => ({ sent: false, message });

/**
 * The ids the client may think live, walking what it sent and received in the order it did:
 * subscribed, and neither completed by it nor ended (complete, error) by the server since.
 */
function liveIds(log: readonly Entry[]): Set<string> {
  const live = new Set<string>();
  for (const { sent: out, message } of log) {
    if (out && message.type === 'subscribe') live.add(message.id);
    else if (out ? message.type === 'complete' : message.type === 'complete' || message.type === 'error') live.delete(message.id);
  }
  return live;
}

/**
 * Resolves once the server has answered every message sent before: two pings in turn, as a
 * ping in the same read as a burst is answered before the burst's refusals are written.
 */
async function answered(socket: ProtocolSocket): Promise<void> {
  for (let round = 0; round < 2; round += 1) {
    await new Promise<void>((resolve) => {
      const ws = socket.socket;
      if (ws.readyState !== ws.OPEN) return resolve();
      const done = () => {
        ws.off('message', onMessage);
        ws.off('close', done);
        resolve();
      };
      const onMessage = (data: unknown) => {
        if (JSON.parse(String(data)).type === 'pong') done();
      };
      ws.on('message', onMessage);
      ws.once('close', done);
      ws.send(JSON.stringify({ type: 'ping' }));
    });
  }
}

type Step = { readonly kind: 'send'; readonly socket: number; readonly messages: readonly ('s' | 'c')[]; readonly id: number; readonly engine: number } | { readonly kind: 'pause' } | { readonly kind: 'close'; readonly socket: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('send' as const), socket: fc.nat(1), messages: fc.array(fc.constantFrom('s' as const, 'c' as const), { minLength: 1, maxLength: 6 }), id: fc.nat(2), engine: fc.nat(ENGINES.length - 1) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'pause' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), socket: fc.nat(1) }) },
);

it('property: any interleaving of subscribe, complete and close, in any chunking, keeps the count equal to the live operations, and 0 once closed', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
      const sockets = [await protocolSocket(h.gateway.url), await protocolSocket(h.gateway.url)];
      // What each socket sent and received, in order: each write is logged with its answers.
      const logs: Entry[][] = [[], []];
      const logged = [0, 0];
      const log = (index: number) => {
        const socket = sockets[index]!;
        logs[index]!.push(...socket.received.slice(logged[index]).map(received));
        logged[index] = socket.received.length;
        return logs[index]!;
      };
      const open = [true, true];
      try {
        for (const current of steps) {
          if (current.kind === 'pause') await sleep(5);
          else if (current.kind === 'close') {
            sockets[current.socket]!.socket.close();
            open[current.socket] = false;
          } else if (open[current.socket]) {
            // One write: `s` subscribes id, `c` completes it (subscribes on a live id make graphql-ws close the socket with 4409).
            const messages = current.messages.map((kind) => (kind === 's' ? subscribe(`op${current.id}`, ENGINES[current.engine]!) : complete(`op${current.id}`)));
            log(current.socket).push(...messages.map(sent));
            sockets[current.socket]!.burst(messages);
            await answered(sockets[current.socket]!);
            log(current.socket);
          }
        }
        // Settled: the count is the operations the clients may still think live.
        const expected = () => sockets.reduce((sum, socket, index) => sum + (open[index] && socket.socket.readyState === socket.socket.OPEN ? liveIds(log(index)).size : 0), 0);
        await sleep(50);
        await eventually(() => h.gateway.subscriptions.active === expected(), `active ${h.gateway.subscriptions.active} to equal ${expected()}`, 3000);
      } finally {
        for (const socket of sockets) socket.socket.close();
      }
      await eventually(() => h.gateway.subscriptions.sockets === 0 && h.gateway.subscriptions.active === 0, 'every socket closed and nothing counted', 3000);
    }),
    { numRuns: 30 },
  );
  await settledEmpty();
}, 60_000);
