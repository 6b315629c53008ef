import { setTimeout as sleep } from 'node:timers/promises';
import { PROBE_CONNECTIONS } from '../../src/http/httpServer';
import { startHarness, type Harness } from '../support/harness';
import { closedWithin, destroyAll, getOnce, open, openAfter, openIdle, type RawConnection } from '../support/rawConnections';

/**
 * The probes' reserve holds whatever the other connections do: connections that never send a
 * request (held until HTTP_HEADERS_TIMEOUT_MS, 10 s here) fill the table and the reserve, and keep
 * coming; /healthz and /readyz are still answered at once. Before, the reserve went to whoever
 * connected first and every later connection was dropped, probes included, until the idle ones
 * timed out.
 */

let h: Harness;
let port: number;
beforeAll(async () => {
  h = await startHarness({ HTTP_MAX_CONNECTIONS: '4', HTTP_MAX_CONNECTIONS_PER_ADDRESS: '4' });
  port = h.gateway.port;
});
afterEach(async () => {
  destroyAll();
  // The server counts a connection as gone on its close event.
  await sleep(100);
});
afterAll(() => h.close());

const OK = /^HTTP\/1\.1 200/;

it('a full reserve of idle connections gives way, oldest first, to newer ones: the probes are answered, and HTTP_MAX_CONNECTIONS keeps its meaning', async () => {
  const ordinary = await openIdle(port, 4);
  const reserve = await openIdle(port, PROBE_CONNECTIONS);
  await sleep(50);
  await openIdle(port, 3);
  for (const oldest of reserve.slice(0, 3)) await closedWithin(oldest, 1000);
  expect(await openAfter(reserve[3]!, 50)).toBe(true);
  expect(await getOnce(port, '/healthz', 1000)).toMatch(OK);
  expect(await getOnce(port, '/readyz', 1000)).toMatch(OK);
  // The ordinary connections stay, and past them anything but a probe is still refused.
  for (const connection of ordinary) expect(await openAfter(connection, 0)).toBe(true);
  const refused = await getOnce(port, '/graphql?query=%7B__typename%7D', 1000);
  expect(refused).toMatch(/^HTTP\/1\.1 503/);
  expect(refused).toMatch(/"code":"UPSTREAM_UNAVAILABLE","reason":"OVERLOADED"/);
});

it('a constant stream of new idle connections does not keep /healthz from being answered', async () => {
  await openIdle(port, 4 + PROBE_CONNECTIONS);
  let flooding = true;
  const flood = (async () => {
    const stream: RawConnection[] = [];
    while (flooding) {
      stream.push(await open(port));
      await sleep(2);
    }
    return stream.length;
  })();
  const answers: string[] = [];
  try {
    for (let i = 0; i < 10; i += 1) {
      await sleep(40);
      answers.push(await getOnce(port, i % 2 === 0 ? '/healthz' : '/readyz', 1000).catch((error: Error) => error.message));
    }
  } finally {
    flooding = false;
  }
  expect(await flood).toBeGreaterThan(2 * PROBE_CONNECTIONS);
  expect(answers.filter((answer) => !OK.test(answer))).toEqual([]);
});
