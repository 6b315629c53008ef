import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_TOKEN, OTHER_PROJECT_ID, SECOND_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';
import { postJson } from './http';
import { PROBE_PATIENCE_MS } from '../../src/upstream/CredentialGate';

/**
 * Credentials the upstream refuses cost it one call, not one per field, representation or request:
 * a made-up token must not let anyone multiply the traffic the gateway's own address sends to the
 * upstream's API gateway (which may throttle or flag that address, for every user).
 */

const ENGINE_IDS = [SEED.engines.big, SEED.engines.single, SEED.engines.onePage, SEED.engines.onePagePlusOne, SEED.engines.maxPage];
/** 25 aliased engine fields over 5 engines. */
const FAN_OUT = `{ ${Array.from({ length: 25 }, (_, i) => `e${i}: engine(id: "${ENGINE_IDS[i % ENGINE_IDS.length]}") { id name }`).join(' ')} }`;
const made = (n: number) => `made-up-token-${String(n).padStart(12, '0')}`;
const REJECTION_TTL_MS = 3000;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ...CACHES_OFF, NODE_ENV: 'production', CSE_AUTH_REJECTION_TTL_MS: String(REJECTION_TTL_MS) });
});
afterAll(() => h.close());
beforeEach(() => h.simulator.reset());

it('a made-up token fanning out over 25 engines makes one upstream call; every field fails with its 401', async () => {
  const response = await h.gql(FAN_OUT, undefined, { 'x-auth-token': made(1) });
  expect(errorCodes(response)).toEqual(Array(25).fill('UNAUTHENTICATED'));
  for (const error of response.body.errors!) expect(error.extensions!.upstream).toMatchObject({ status: 401, code: 'APIG.0301' });
  expect(h.simulator.callCount()).toBe(1);
});

it('`_entities` with 49 representations and a made-up token makes one call, and fails once', async () => {
  const representations = Array.from({ length: 49 }, (_, i) => ({ __typename: 'Job', engineId: SEED.engines.big, id: String(i + 1) }));
  const response = await postJson(
    h.gateway.url,
    { query: 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Job { id } } }', variables: { r: representations } },
    { 'x-auth-token': made(2) },
  );
  expect(response.json().errors.map((e: any) => [e.path, e.extensions.code])).toEqual([[['_entities'], 'UNAUTHENTICATED']]);
  expect(h.simulator.callCount()).toBe(1);
});

it('remembers a rejected token briefly: its next requests fail without a call, until CSE_AUTH_REJECTION_TTL_MS has passed', async () => {
  const started = performance.now();
  await h.gql(FAN_OUT, undefined, { 'x-auth-token': made(3) });
  let refused = performance.now();
  expect(h.simulator.callCount()).toBe(1);
  // The refusal is remembered from between `started` and `refused`: a request answered before
  // `started` + the TTL was refused from memory. A loaded host may take longer over the five: the
  // first answered later may ask again, and be refused anew.
  let remembered = 0;
  for (let i = 0; i < 5; i += 1) {
    const again = await h.gql('{ engines(first: 3) { totalCount } }', undefined, { 'x-auth-token': made(3) });
    expect(errorCodes(again)).toEqual(['UNAUTHENTICATED']);
    if (performance.now() >= started + REJECTION_TTL_MS) {
      refused = performance.now();
      break;
    }
    remembered += 1;
    expect(h.simulator.callCount()).toBe(1);
  }
  expect(remembered).toBeGreaterThan(0);
  const calls = h.simulator.callCount();
  await sleep(Math.max(0, refused + REJECTION_TTL_MS + 100 - performance.now()));
  const later = await h.gql('{ engines(first: 3) { totalCount } }', undefined, { 'x-auth-token': made(3) });
  expect(errorCodes(later)).toEqual(['UNAUTHENTICATED']);
  expect(h.simulator.callCount()).toBe(calls + 1);
});

it('many different made-up tokens cost one call each, however many fields each request has', async () => {
  // Eight at a time: forty fan-outs at once could hold this process's event loop past a probe's
  // patience (PROBE_PATIENCE_MS) on a loaded host, and a second probe is then by design. So each
  // token is held to one call, plus one per patience its own request took (none on a quick host);
  // without the gate each costs one per engine, five.
  const tookMs = new Map<string, number>();
  for (let batch = 0; batch < 5; batch += 1) {
    const tokens = Array.from({ length: 8 }, (_, i) => made(100 + batch * 8 + i));
    const responses = await Promise.all(
      tokens.map(async (token) => {
        const started = performance.now();
        const response = await h.gql(FAN_OUT, undefined, { 'x-auth-token': token });
        tookMs.set(token, performance.now() - started);
        return response;
      }),
    );
    for (const response of responses) expect(new Set(errorCodes(response))).toEqual(new Set(['UNAUTHENTICATED']));
  }
  const callsOf = (token: string) => h.simulator.calls.filter((call) => call.headers['x-auth-token'] === token).length;
  const seen = [...tookMs].map(([token, ms]) => ({ token, calls: callsOf(token), allowed: 1 + Math.floor(ms / PROBE_PATIENCE_MS) }));
  expect(seen.filter((each) => each.calls < 1 || each.calls > each.allowed)).toEqual([]);
  expect(h.simulator.callCount()).toBe(seen.reduce((sum, each) => sum + each.calls, 0));
});

it("a token's 403 for a project denies each resource it asked for (one call each, not one per field), and is not held against its other projects", async () => {
  // A 403 denies one resource, not the token (fine-grained IAM serves the others): each distinct
  // engine is asked once, as it would be for a token the upstream answers.
  const response = await h.gql(FAN_OUT, undefined, { 'x-project-id': OTHER_PROJECT_ID });
  expect(errorCodes(response)).toEqual(Array(25).fill('FORBIDDEN'));
  expect(h.simulator.callCount()).toBe(ENGINE_IDS.length);
  const own = await h.gql(`{ engine(id: "${SEED.engines.big}") { id } }`);
  expect(own.body).toEqual({ data: { engine: { id: SEED.engines.big } } });
});

it("neither the memory nor the probe touches another caller's token", async () => {
  await h.gql(FAN_OUT, undefined, { 'x-auth-token': made(4) });
  const other = await h.gql(FAN_OUT, undefined, { 'x-auth-token': SECOND_TOKEN });
  expect(other.body.errors).toBeUndefined();
  expect(Object.keys(other.body.data)).toHaveLength(25);
});

it('a token the upstream has answered is not held to one call at a time', async () => {
  await h.gql(`{ engine(id: "${SEED.engines.big}") { id } }`, undefined, { 'x-auth-token': DEMO_TOKEN });
  h.simulator.resetCalls();
  h.simulator.injectFault({ route: 'getEngine', latencyMs: 100 });
  const response = await h.gql(FAN_OUT);
  expect(response.body.errors).toBeUndefined();
  expect(h.simulator.peakInFlight).toBeGreaterThan(1);
});

it('an unknown token waits for the first verdict, then goes at full fan-out once it is accepted', async () => {
  // SECOND_TOKEN is valid but, in a fresh process, unknown: one call first, then the others together.
  const fresh = await startHarness({ ...CACHES_OFF });
  try {
    fresh.simulator.injectFault({ route: 'getEngine', latencyMs: 100 });
    const response = await fresh.gql(FAN_OUT, undefined, { 'x-auth-token': SECOND_TOKEN });
    expect(response.body.errors).toBeUndefined();
    expect(fresh.simulator.callCount({ route: 'getEngine' })).toBe(5);
    expect(fresh.simulator.peakInFlight).toBeGreaterThan(1);
  } finally {
    await fresh.close();
  }
});

it("an unknown token's probe stuck on a slow engine holds its other calls only PROBE_PATIENCE_MS, not the engine's latency", async () => {
  const fresh = await startHarness({ ...CACHES_OFF });
  try {
    fresh.simulator.injectFault({ route: 'getEngine', engineId: SEED.engines.big, latencyMs: 3000 });
    const slow = fresh.gql(`{ engine(id: "${SEED.engines.big}") { name } }`, undefined, { 'x-auth-token': SECOND_TOKEN });
    await sleep(50);
    const started = performance.now();
    const other = await fresh.gql(`{ engine(id: "${SEED.engines.single}") { name } }`, undefined, { 'x-auth-token': SECOND_TOKEN });
    expect(other.body.errors).toBeUndefined();
    // Without the patience it waited the whole 3 s for the first probe's verdict.
    expect(performance.now() - started).toBeLessThan(2000);
    expect((await slow).body.errors).toBeUndefined();
  } finally {
    await fresh.close();
  }
});
