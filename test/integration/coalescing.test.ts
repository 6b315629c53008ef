import { request } from 'undici';
import { DEMO_TOKEN, SECOND_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';
import { eventually } from '../support/liveClient';

/**
 * Operation-level single flight (src/http/inFlightRequests.ts): identical requests of the same
 * caller in flight at the same moment share one execution; the others are answered with its
 * answer (outcome `coalesced`) — only a complete, error-free one — and keep their own request id,
 * CORS headers, log line and metrics. The caches are off throughout: this is not caching.
 */

const PAGE = `query Page($id: ID!) { engine(id: $id) { jobs(first: 20) { edges { cursor node { id status } } totalCount } } }`;
/** Long enough that every request of a test arrives while the first one's upstream call waits. */
const SLOW_MS = 400;

function operationLines(h: Harness): Array<{ requestId: string; outcome: string; operationName: string | null }> {
  return h.logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'graphql operation');
}

function outcomes(h: Harness): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of operationLines(h)) counts[line.outcome] = (counts[line.outcome] ?? 0) + 1;
  return counts;
}

/** Resolves once the simulator has received `n` calls to `route` (bounded: fails the test past 5 s). */
function untilCalls(h: Harness, route: 'listJobs', n: number): Promise<void> {
  return eventually(() => h.simulator.callCount({ route }) >= n, `${n} ${route} call(s) at the simulator`);
}

/** Sends `count` identical requests: the first (the leader) alone, the others once its upstream call is waiting. */
async function concurrent(h: Harness, count: number, id: string, headersOf: (i: number) => Record<string, string> = () => ({})) {
  const leader = h.gql(PAGE, { id }, headersOf(0));
  await untilCalls(h, 'listJobs', 1);
  const others = Array.from({ length: count - 1 }, (_, i) => h.gql(PAGE, { id }, headersOf(i + 1)));
  return Promise.all([leader, ...others]);
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ...CACHES_OFF, LOG_LEVEL: 'info', CORS_ORIGINS: 'https://app.example.com' });
});
afterAll(() => h.close());
beforeEach(() => {
  h.simulator.reset();
  h.logs.length = 0;
});

it('runs N identical concurrent requests once: one upstream call, one execution, N identical answers', async () => {
  const id = SEED.engines.big;
  // The body a request gets on its own, for comparison.
  const alone = await h.gql(PAGE, { id });
  expect(alone.body.errors).toBeUndefined();
  h.simulator.reset();
  h.logs.length = 0;

  h.simulator.injectFault({ route: 'listJobs', engineId: id, latencyMs: SLOW_MS, times: 1 });
  const answers = await concurrent(h, 8, id, (i) => ({ 'x-request-id': `poll-${i}`, origin: 'https://app.example.com' }));
  expect(h.simulator.callCount({ route: 'listJobs' })).toBe(1);
  expect(outcomes(h)).toEqual({ success: 1, coalesced: 7 });
  for (const [i, answer] of answers.entries()) {
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(alone.text);
    expect(answer.headers['content-type']).toBe(alone.headers['content-type']);
    expect(answer.headers['cache-control']).toBe(alone.headers['cache-control']);
    expect(answer.headers['x-request-id']).toBe(`poll-${i}`);
    expect(answer.headers['access-control-allow-origin']).toBe('https://app.example.com');
  }
  // Each waiter has its own log line, with its own request id and the leader's operation name.
  const coalesced = operationLines(h).filter((line) => line.outcome === 'coalesced');
  expect(coalesced.map((line) => line.requestId).sort()).toEqual(['poll-1', 'poll-2', 'poll-3', 'poll-4', 'poll-5', 'poll-6', 'poll-7']);
  expect(coalesced.every((line) => line.operationName === 'Page')).toBe(true);
  const metrics = await (await request(new URL('/metrics', h.gateway.url))).body.text();
  expect(metrics).toMatch(/^gateway_operations_total\{operation="Page",outcome="coalesced"\} 7$/m);
});

it('never shares between two tokens: each executes', async () => {
  const id = SEED.engines.onePage;
  h.simulator.injectFault({ route: 'listJobs', engineId: id, latencyMs: SLOW_MS, times: 2 });
  const answers = await concurrent(h, 2, id, (i) => ({ 'x-auth-token': i === 0 ? DEMO_TOKEN : SECOND_TOKEN }));
  expect(answers.map((answer) => answer.body.errors)).toEqual([undefined, undefined]);
  expect(outcomes(h)).toEqual({ success: 2 });
  expect(h.simulator.calls.map((call) => call.headers['x-auth-token']).sort()).toEqual([DEMO_TOKEN, SECOND_TOKEN].sort());
});

it('never shares an answer with errors: the waiters execute on their own and succeed', async () => {
  const id = SEED.engines.onePagePlusOne;
  h.simulator.injectFault({ route: 'listJobs', engineId: id, latencyMs: SLOW_MS, status: 403, dialect: 'cse', times: 1 });
  const [leader, ...waiters] = await concurrent(h, 4, id);
  expect(errorCodes(leader)).toEqual(['FORBIDDEN']);
  for (const waiter of waiters) {
    expect(waiter.status).toBe(200);
    expect(waiter.body.errors).toBeUndefined();
    expect(waiter.body.data.engine.jobs.totalCount).toBe(SEED.jobCounts[id]);
  }
  expect(outcomes(h)).toEqual({ partial: 1, success: 3 });
  expect(h.simulator.callCount({ route: 'listJobs', engineId: id })).toBeGreaterThanOrEqual(2);
});

/** Sends PAGE with the demo token on a request the test can abort (the harness's `gql` cannot). */
function sendAbortable(id: string, requestId: string, signal: AbortSignal): Promise<unknown> {
  return request(h.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_TOKEN, 'x-request-id': requestId },
    body: JSON.stringify({ query: PAGE, variables: { id } }),
    signal,
  }).then((response) => response.body.text(), () => 'left');
}

/** Resolves once the gateway has written the log line of `requestId` (bounded: fails past 5 s). */
function untilLogged(requestId: string): Promise<void> {
  return eventually(() => operationLines(h).some((line) => line.requestId === requestId), `the log line of ${requestId}`);
}

it("releases the waiters when the leader's client leaves: they execute on their own and succeed", async () => {
  const id = SEED.engines.single;
  h.simulator.injectFault({ route: 'listJobs', engineId: id, latencyMs: SLOW_MS, times: 1 });
  const gone = new AbortController();
  const leader = sendAbortable(id, 'leader', gone.signal);
  await untilCalls(h, 'listJobs', 1);
  const waiter = h.gql(PAGE, { id }, { 'x-request-id': 'waiter' });
  await new Promise((resolve) => setTimeout(resolve, 50));
  gone.abort();
  await leader;
  const waited = await waiter;
  expect(waited.status).toBe(200);
  expect(waited.body.errors).toBeUndefined();
  expect(waited.body.data.engine.jobs.totalCount).toBe(SEED.jobCounts[id]);
  expect(h.simulator.callCount({ route: 'listJobs' })).toBe(2);
  await untilLogged('leader');
  expect(operationLines(h).map((line) => [line.requestId, line.outcome]).sort()).toEqual([
    ['leader', 'aborted'],
    ['waiter', 'success'],
  ]);
});

it('stops waiting for a waiter whose client leaves, without disturbing the leader', async () => {
  const id = SEED.engines.maxPage;
  h.simulator.injectFault({ route: 'listJobs', engineId: id, latencyMs: SLOW_MS, times: 1 });
  const leader = h.gql(PAGE, { id }, { 'x-request-id': 'leader' });
  await untilCalls(h, 'listJobs', 1);
  const gone = new AbortController();
  const waiter = sendAbortable(id, 'waiter', gone.signal);
  await new Promise((resolve) => setTimeout(resolve, 50));
  gone.abort();
  expect(await waiter).toBe('left');
  // Its line is written when its client leaves, long before the leader's upstream call returns.
  await untilLogged('waiter');
  expect(operationLines(h).map((line) => [line.requestId, line.outcome])).toEqual([['waiter', 'aborted']]);
  expect((await leader).body.errors).toBeUndefined();
  expect(h.simulator.callCount({ route: 'listJobs' })).toBe(1);
  expect(outcomes(h)).toEqual({ aborted: 1, success: 1 });
});

it('leaves nothing behind: a request after the flight executes again', async () => {
  const id = SEED.engines.empty;
  h.simulator.injectFault({ route: 'listJobs', engineId: id, latencyMs: SLOW_MS, times: 1 });
  await concurrent(h, 2, id);
  await h.gql(PAGE, { id });
  expect(outcomes(h)).toEqual({ success: 2, coalesced: 1 });
  expect(h.simulator.callCount({ route: 'listJobs' })).toBe(2);
});
