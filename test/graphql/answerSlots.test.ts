import { SECOND_TOKEN } from '@cse-jobs-gateway/simulator';
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
