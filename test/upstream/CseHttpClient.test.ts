import { Agent } from 'undici';
import type { UpstreamEvents } from '../../src/observability/events';
import { DEMO_PROJECT_ID, DEMO_TOKEN, SEED, startSimulator, type Simulator } from '@cse-jobs-gateway/simulator';
import { loadConfig } from '../../src/config/loadConfig';
import { CACHES_OFF } from '../support/cachesOff';
import { CseHttpClient, type UpstreamCall } from '../../src/upstream/CseHttpClient';
import { paths } from '../../src/upstream/paths';
import { AnswerOutgrewRoom } from '../../src/upstream/errorMapping';

/** The upstream client against the simulator on a real socket: what it reports as it works. */

const credentials = { token: DEMO_TOKEN, projectId: DEMO_PROJECT_ID, enterpriseProjectId: undefined };
const engineCall = (engineId: string): UpstreamCall => ({ route: 'getEngine', path: paths.getEngine(DEMO_PROJECT_ID, engineId), engineId });

function recorder() {
  const log: string[] = [];
  const sink: UpstreamEvents = {
    attempt: (e) => log.push(`attempt ${e.route} #${e.attempt} ${e.outcome} ${e.status ?? '-'}`),
    cache: (e) => log.push(`cache ${e.hit ? 'hit' : 'miss'}`),
    joined: () => log.push('joined'),
    breaker: (e) => log.push(`breaker ${e.scope} ${e.state}`),
    inFlight: (n) => log.push(`inFlight ${n}`),
    shed: () => log.push('shed'),
  };
  return { log, sink };
}

let simulator: Simulator;
let dispatcher: Agent;
beforeAll(async () => {
  simulator = await startSimulator();
  dispatcher = new Agent();
});
afterAll(async () => {
  await dispatcher.close();
  await simulator.close();
});
beforeEach(() => simulator.reset());

/** The client as the gateway builds it from its configuration (where the defaults live), with `env` on top. */
function client(env: Record<string, string> = {}) {
  const processSink = recorder();
  const config = loadConfig({
    CSE_RETRY_BASE_MS: '10',
    CACHE_LIST_TTL_MS: '1000',
    CACHE_ENGINE_TTL_MS: '1000',
    CACHE_JOB_TTL_MS: '1000',
    CACHE_TERMINAL_JOB_TTL_MS: '1000',
    CACHE_MAX_ENTRIES: '100',
    CACHE_MAX_BYTES: String(1 << 20),
    ...env,
  });
  const { resilience, credentials } = config.upstream;
  const http = new CseHttpClient({ endpoint: simulator.url, dispatcher, events: processSink.sink, resilience, credentials, cache: config.cache, random: () => 0 });
  return { http, processLog: processSink.log };
}

it('reports every attempt with its number, and cache misses and hits, to the process and the operation sinks', async () => {
  const { http, processLog } = client();
  const operation = recorder();
  simulator.injectFault({ route: 'getEngine', status: 500, dialect: 'cse', times: 1 });
  const answer = await http.get(engineCall(SEED.engines.big), { credentials, events: operation.sink });
  expect(answer.kind).toBe('ok');
  await http.get(engineCall(SEED.engines.big), { credentials, events: operation.sink });
  const expected = [
    'cache miss',
    'inFlight 1',
    'inFlight 0',
    'attempt getEngine #0 error 500',
    'inFlight 1',
    'inFlight 0',
    'attempt getEngine #1 ok 200',
    'cache hit',
  ];
  expect(operation.log).toEqual(expected);
  expect(processLog).toEqual(expected);
});

it('reports a call that joined one in flight, and a shed one', async () => {
  const { http } = client({ CSE_MAX_INFLIGHT: '1', CSE_MAX_QUEUE: '0', ...CACHES_OFF });
  // Credentials the upstream has answered: their calls go out together (an unknown token's would
  // wait, one at a time, for the first verdict: see CredentialGate).
  await http.get(engineCall(SEED.engines.onePage), { credentials });
  simulator.resetCalls();
  const operation = recorder();
  simulator.injectFault({ route: 'getEngine', latencyMs: 50 });
  const results = await Promise.allSettled([
    http.get(engineCall(SEED.engines.big), { credentials, events: operation.sink }),
    http.get(engineCall(SEED.engines.big), { credentials, events: operation.sink }),
    http.get(engineCall(SEED.engines.single), { credentials, events: operation.sink }),
  ]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
  expect(operation.log.filter((line) => line === 'joined' || line === 'shed')).toEqual(['joined', 'shed']);
  expect(simulator.callCount({ route: 'getEngine' })).toBe(1);
});

it('reports breaker state changes, and answers from an open breaker without calling', async () => {
  const { http } = client({ CSE_RETRIES: '0', CSE_BREAKER_FAILURES: '2', CSE_BREAKER_OPEN_MS: '60000', ...CACHES_OFF });
  const operation = recorder();
  // The upstream has accepted the credentials: a stranger's 5xx would open no breaker.
  await http.get(engineCall(SEED.engines.single), { credentials });
  simulator.injectFault({ route: 'getEngine', status: 503, dialect: 'empty' });
  for (let i = 0; i < 3; i += 1) {
    await expect(http.get(engineCall(SEED.engines.big), { credentials, events: operation.sink })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  }
  expect(operation.log.filter((line) => line.startsWith('breaker'))).toEqual(['breaker engine open']);
  expect(simulator.callCount({ route: 'getEngine' })).toBe(3);
});

it('hands out frozen answers: a caller cannot change what the next one reads from the cache', async () => {
  const { http } = client();
  const first = await http.get(engineCall(SEED.engines.big), { credentials });
  expect(first.kind === 'ok' && Object.isFrozen(first.body)).toBe(true);
  expect(() => {
    if (first.kind === 'ok') (first.body as { name: string }).name = 'changed';
  }).toThrow(TypeError);
  const second = await http.get(engineCall(SEED.engines.big), { credentials });
  expect(second.kind === 'ok' && (second.body as { name: string }).name).toBe('big-engine');
});

it('hands out frozen answers to callers sharing one call, and leaves an answer nobody else sees as parsed', async () => {
  const { http } = client(CACHES_OFF);
  const [a, b] = await Promise.all([http.get(engineCall(SEED.engines.big), { credentials }), http.get(engineCall(SEED.engines.big), { credentials })]);
  expect(simulator.callCount()).toBe(1);
  expect(a).toBe(b);
  expect(a.kind === 'ok' && Object.isFrozen(a.body)).toBe(true);
  const alone = await http.get(engineCall(SEED.engines.single), { credentials });
  expect(alone.kind === 'ok' && Object.isFrozen(alone.body)).toBe(false);
});

it('stops at the deadline: no attempt starts after it', async () => {
  const { http } = client();
  await expect(http.get(engineCall(SEED.engines.big), { credentials, deadline: performance.now() - 1 })).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
  expect(simulator.callCount()).toBe(0);
});

it('answers a caller whose operation times out while waiting with UPSTREAM_TIMEOUT, not a raw abort', async () => {
  const { http } = client();
  simulator.injectFault({ route: 'getEngine', latencyMs: 300 });
  const signal = AbortSignal.timeout(50);
  await expect(http.get(engineCall(SEED.engines.big), { credentials, signal, deadline: performance.now() + 50 })).rejects.toMatchObject({
    code: 'UPSTREAM_TIMEOUT',
  });
});

it('reads an answer only within the room its operation holds: one that announces more ends at its headers, retried by no one, counted by no breaker, its credentials accepted', async () => {
  const { http } = client({ CSE_RETRIES: '2', CSE_BREAKER_FAILURES: '1', CSE_BREAKER_OPEN_MS: '60000', ...CACHES_OFF });
  const operation = recorder();
  const asked: number[] = [];
  const room = (fits: boolean) => ({ fits: (bytes: number) => (asked.push(bytes), fits) });
  expect(http.isStranger(credentials)).toBe(true);
  const outgrown = http.get({ ...engineCall(SEED.engines.big), room: room(false) }, { credentials, events: operation.sink });
  await expect(outgrown).rejects.toBeInstanceOf(AnswerOutgrewRoom);
  const { bytes, announced } = (await outgrown.catch((error: AnswerOutgrewRoom) => error)) as AnswerOutgrewRoom;
  expect([asked, announced]).toEqual([[bytes], true]);
  expect(http.isStranger(credentials)).toBe(false);
  // Its room grown to what it announced, the next is read whole; the engine's breaker never opened.
  const answered = await http.get({ ...engineCall(SEED.engines.big), room: room(true) }, { credentials, events: operation.sink });
  expect(answered).toMatchObject({ kind: 'ok', bytes });
  expect(asked.slice(0, 2)).toEqual([bytes, bytes]);
  expect(simulator.callCount({ route: 'getEngine' })).toBe(2);
  expect(operation.log.filter((line) => line.startsWith('breaker'))).toEqual([]);
});
