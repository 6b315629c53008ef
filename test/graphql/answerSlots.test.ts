import { DEMO_TOKEN, SECOND_TOKEN } from '@cse-jobs-gateway/simulator';
import { startGatewayOn, type GatewayHarness } from '../support/harness';
import { eventually } from '../support/liveClient';
import { heldJob, startFakeUpstream, type FakeUpstream } from '../support/upstream';

/**
 * An operation takes a slot among the answers being made before its first upstream call: one that finds
 * none free waits without fetching anything, so what many operations at once hold is bounded by the slots,
 * not by how many arrive. With OPERATION_MAX_CONCURRENT at 1, the second operation's call reaches the
 * upstream only once the first is answered.
 */
const ENGINE = 'e-places';
const held = heldJob(ENGINE);
const JOB_3 = `/engines/${ENGINE}/jobs/3`;
const job = (id: number) => `{ job(engineId: "${ENGINE}", id: "${id}") { id status } }`;

let upstream: FakeUpstream;
let gateway: GatewayHarness;
beforeAll(async () => {
  upstream = await startFakeUpstream((path) =>
    path.includes(JOB_3) ? JSON.stringify({ id: 3, engineId: ENGINE, status: 'Finished', tasks: [] }) : held.answer(path),
  );
  gateway = await startGatewayOn(upstream, { OPERATION_MAX_CONCURRENT: '1', REQUEST_TIMEOUT_MS: '10000' });
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

it("waits for a slot before its upstream call while another caller's operation holds the only one", async () => {
  const first = gateway.gql(job(2));
  await eventually(() => held.release !== undefined, 'the first operation asks for its job', 5000);
  const second = gateway.gql(job(3), undefined, { 'x-auth-token': SECOND_TOKEN });
  // Long enough for the second request to be read, parsed and run up to its call.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(upstream.calls.filter((path) => path.includes(JOB_3))).toEqual([]);
  held.release!();
  expect((await first).body).toEqual({ data: { job: { id: '2', status: 'FINISHED' } } });
  expect((await second).body).toEqual({ data: { job: { id: '3', status: 'FINISHED' } } });
  expect(upstream.calls.filter((path) => path.includes(JOB_3))).toHaveLength(1);
});

/**
 * An operation's calls all pass their first look for room at once, before any answer counts: each looks
 * again when it starts (CSE_REQUEST_CONCURRENCY at a time). With 256 KiB of OPERATION_MAX_UPSTREAM_BYTES
 * (128 KiB for small answers together), another caller's answer holding 100 KB, the first in line, and this
 * operation's first 100 KB counted, its second call waits until the other is made.
 */
describe('each call of an operation, when it starts', () => {
  const ENGINE_B = 'e-room';
  const big = (id: number) => JSON.stringify({ id, engineId: ENGINE_B, status: 'Finished', description: 'd'.repeat(100 * 1024), tasks: [] });
  const path = (id: number) => `/engines/${ENGINE_B}/jobs/${id}`;
  let release: (() => void) | undefined;
  let fake: FakeUpstream;
  let roomGateway: GatewayHarness;
  beforeAll(async () => {
    fake = await startFakeUpstream((requested) => {
      if (requested.includes(path(8))) return new Promise((resolve) => (release = () => resolve(big(8))));
      const id = [1, 2, 7].find((n) => requested.includes(path(n)));
      return id === undefined ? undefined : big(id);
    });
    roomGateway = await startGatewayOn(fake, { OPERATION_MAX_UPSTREAM_BYTES: String(256 * 1024), CSE_REQUEST_CONCURRENCY: '1', REQUEST_TIMEOUT_MS: '10000' });
  });
  afterAll(async () => {
    await roomGateway.close();
    await fake.close();
  });

  it('waits for room before it goes out, not only before the first', async () => {
    const other = roomGateway.gql(`{ a: job(engineId: "${ENGINE_B}", id: "7") { description } b: job(engineId: "${ENGINE_B}", id: "8") { id } }`, undefined, { 'x-auth-token': SECOND_TOKEN });
    await eventually(() => release !== undefined, "the other operation's second call", 5000);
    const mine = roomGateway.gql(`{ a: job(engineId: "${ENGINE_B}", id: "1") { id } b: job(engineId: "${ENGINE_B}", id: "2") { id } }`);
    await eventually(() => fake.calls.some((called) => called.includes(path(1))), 'its first call', 5000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fake.calls.filter((called) => called.includes(path(2)))).toEqual([]);
    release!();
    expect((await other).body.errors).toBeUndefined();
    expect((await mine).body).toEqual({ data: { a: { id: '1' }, b: { id: '2' } } });
  });
});

/**
 * An operation's calls that start together each look for room before any of their answers counts: each now
 * holds room for its answer while on its way (before the operation has an answer, 64 KiB among the large
 * answers' and in its caller's share; then its largest yet). While that room or the share is taken, an
 * operation with no answer yet might be one more large one: it makes one call at a time until it has an
 * answer, then goes on as its size says.
 */
describe('calls on their way', () => {
  const ENGINE_C = 'e-way';
  const path = (id: number) => `/engines/${ENGINE_C}/jobs/${id}`;
  const job = (id: number, description = '') => JSON.stringify({ id, engineId: ENGINE_C, status: 'Finished', description, tasks: [] });
  const aliases = (...ids: number[]) => `{ ${ids.map((id) => `j${id}: job(engineId: "${ENGINE_C}", id: "${id}") { id }`).join(' ')} }`;
  /** Answers held until released, by job id; the others answered at once (`LARGE` with 600 KB). */
  const releases = new Map<number, () => void>();
  const HELD = [13, 14, 15, 16, 22, 23];
  const LARGE = 21;
  const calledFor = (id: number) => fake.calls.filter((called) => called.includes(path(id))).length;
  let fake: FakeUpstream;
  beforeAll(async () => {
    fake = await startFakeUpstream((requested) => {
      const id = Number(/\/jobs\/(\d+)/.exec(requested)?.[1]);
      if (!requested.includes(`/engines/${ENGINE_C}/`) || Number.isNaN(id)) return undefined;
      if (HELD.includes(id)) return new Promise((resolve) => releases.set(id, () => resolve(job(id))));
      return job(id, id === LARGE ? 'd'.repeat(600 * 1024) : '');
    });
  });
  afterAll(() => fake.close());
  /** A gateway with `env` that has seen both tokens accepted: a token it does not know yet has one call at a time. */
  const knowing = async (env: Record<string, string>) => {
    const gateway = await startGatewayOn(fake, { ...env, REQUEST_TIMEOUT_MS: '10000' });
    for (const token of [DEMO_TOKEN, SECOND_TOKEN]) expect((await gateway.gql(aliases(1), undefined, { 'x-auth-token': token })).body.errors).toBeUndefined();
    return gateway;
  };

  it('hold room for their answers: past its caller\'s share, an operation with no answer yet makes one call at a time', async () => {
    // A token's share is 128 KiB: two calls on their way, 64 KiB each before an answer, take it.
    const gateway = await knowing({ OPERATION_MAX_UPSTREAM_BYTES: String(512 * 1024) });
    try {
      const mine = gateway.gql(aliases(13, 14, 15, 16));
      await eventually(() => releases.has(13) && releases.has(14), 'its first two calls', 5000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect([15, 16].map(calledFor)).toEqual([0, 0]);
      // Its first answer is small: the others go on, each holding as much.
      releases.get(13)!();
      await eventually(() => releases.has(15) && releases.has(16), 'its other calls', 5000);
      for (const id of [14, 15, 16]) releases.get(id)!();
      expect((await mine).body).toEqual({ data: { j13: { id: '13' }, j14: { id: '14' }, j15: { id: '15' }, j16: { id: '16' } } });
    } finally {
      await gateway.close();
    }
  });

  it("go one at a time, for an operation with no answer yet, while the large answers' room is taken", async () => {
    // 512 KiB for the large answers together: the other operation's 600 KB answer takes it.
    const gateway = await knowing({ OPERATION_MAX_UPSTREAM_BYTES: String(1024 * 1024) });
    try {
      const other = gateway.gql(aliases(LARGE, 22), undefined, { 'x-auth-token': SECOND_TOKEN });
      await eventually(() => releases.has(22) && calledFor(LARGE) === 1, "the other operation's calls", 5000);
      // Its large answer counted.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const mine = gateway.gql(aliases(23, 24));
      await eventually(() => releases.has(23), 'its first call', 5000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect([calledFor(23), calledFor(24)]).toEqual([1, 0]);
      releases.get(23)!();
      expect((await mine).body).toEqual({ data: { j23: { id: '23' }, j24: { id: '24' } } });
      releases.get(22)!();
      expect((await other).body.errors).toBeUndefined();
    } finally {
      await gateway.close();
    }
  });
});
