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
