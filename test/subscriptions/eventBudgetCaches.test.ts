import { SEED } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { collect, eventually, liveClient, type Collected } from '../support/liveClient';

/**
 * SUBSCRIPTION_MAX_CALLS_PER_POLL charges an event only for the upstream calls the caches do not
 * answer: a scope's ordinary nested subscriptions keep their data when many of its jobs change at once.
 */

const engineId = SEED.engines.onePage;
const JOBS = 12;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ SUBSCRIPTION_POLL_MS: '200' });
});
afterAll(() => h.close());

it('serves 12 watched jobs’ `engine { name }` from the cache when all change in one interval', async () => {
  const jobs = Array.from({ length: JOBS }, () => h.simulator.startJob(engineId));
  // The engine's answer is cached for the scope (CACHE_ENGINE_TTL_MS, 10 s by default).
  expect((await h.gql('query ($id: ID!) { engine(id: $id) { name } }', { id: engineId })).body.errors).toBeUndefined();
  const client = liveClient(h.gateway.url);
  const query = 'subscription ($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id description engine { name } } }';
  const subs = jobs.map((job) => collect(client, query, { engineId, id: String(job.id) }));
  await eventually(() => subs.every((sub) => sub.results.length > 0), 'first states', 5_000);

  for (const job of jobs) h.simulator.updateJob(engineId, job.id, { description: 'changed' });
  const last = (sub: Collected) => sub.results.at(-1)!;
  await eventually(() => subs.every((sub) => last(sub).data?.jobUpdated.description === 'changed'), 'the changes', 5_000);
  for (const sub of subs) {
    expect(last(sub).errors).toBeUndefined();
    expect(last(sub).data!.jobUpdated.engine.name).toEqual(expect.any(String));
  }
  subs.forEach((sub) => sub.stop());
  await client.dispose();
}, 15_000);
