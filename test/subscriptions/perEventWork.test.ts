import { SEED } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { collect, eventually, liveClient, sleep } from '../support/liveClient';

/**
 * What one event costs the gateway: a subscription is refused when each event would render more
 * connection items than SUBSCRIPTION_MAX_ITEMS_PER_EVENT (a cached list costs no upstream call,
 * but every event renders its page again).
 */

const engineId = SEED.engines.onePage;

// One gateway for both: each test starts its own job and ends its own subscriptions.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ SUBSCRIPTION_POLL_MS: '100' });
});
afterAll(() => h.close());

describe('SUBSCRIPTION_MAX_ITEMS_PER_EVENT (default 20)', () => {

  it('refuses the issue’s document (2 upstream calls, 100 jobs per event) with QUERY_TOO_COMPLEX', async () => {
    const client = liveClient(h.gateway.url);
    const refused = collect(
      client,
      `subscription ($engineId: ID!) { engineJobEvents(engineId: $engineId) { job { engine { jobs(first: 100) { nodes { id status tasks { id } } } } } } }`,
      { engineId },
    );
    await expect(refused.done).rejects.toEqual([
      expect.objectContaining({ extensions: { code: 'QUERY_TOO_COMPLEX', items: 100, limit: 20 } }),
    ]);
    expect(h.gateway.subscriptions.active).toBe(0);
    await client.dispose();
  });

  it('serves one whose events render a page within the bound', async () => {
    const client = liveClient(h.gateway.url);
    const job = h.simulator.startJob(engineId);
    const served = collect(
      client,
      `subscription ($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id engine { jobs(first: 20) { nodes { id } } } } }`,
      { engineId, id: String(job.id) },
    );
    const [first] = await served.next(1);
    expect(first!.errors).toBeUndefined();
    expect(first!.data.jobUpdated.engine.jobs.nodes.length).toBeGreaterThan(0);
    served.stop();
    await client.dispose();
  });
});

describe('subscriptions with distinct aliases', () => {

  it('each get their own keys for the same event, over one socket and over several', async () => {
    const shared = liveClient(h.gateway.url);
    const apart = liveClient(h.gateway.url);
    const texts = [
      `subscription ($engineId: ID!) { engineJobEvents(engineId: $engineId) { kind job { id context } } }`,
      `subscription Mine($engineId: ID!) { e: engineJobEvents(engineId: $engineId) { k: kind j: job { i: id c: context } } }`,
      `subscription Yours($engineId: ID!) { x: engineJobEvents(engineId: $engineId) { ...E } } fragment E on JobEvent { job { context n: id } kind }`,
    ];
    const job = h.simulator.startJob(engineId);
    const subs = [...texts.map((text) => collect(shared, text, { engineId })), collect(apart, texts[1]!, { engineId })];
    await eventually(() => h.gateway.subscriptions.active === subs.length, 'subscribed');
    // The same change, for everyone: the job's context marked until each has seen the mark.
    const seen = () => subs.every((sub) => JSON.stringify(sub.results).includes('"mark"'));
    for (let n = 0; n < 50 && !seen(); n += 1) {
      h.simulator.updateJob(engineId, job.id, { context: n % 2 === 0 ? 'mark' : 'other' });
      await sleep(250);
    }
    const marked = subs.map((sub) => sub.results.find((result) => JSON.stringify(result).includes('"mark"'))!);
    const id = String(job.id);
    expect(JSON.stringify(marked.map((result) => result.data))).toBe(
      JSON.stringify([
        { engineJobEvents: { kind: 'CHANGED', job: { id, context: 'mark' } } },
        { e: { k: 'CHANGED', j: { i: id, c: 'mark' } } },
        { x: { job: { context: 'mark', n: id }, kind: 'CHANGED' } },
        { e: { k: 'CHANGED', j: { i: id, c: 'mark' } } },
      ]),
    );
    subs.forEach((sub) => sub.stop());
    await shared.dispose();
    await apart.dispose();
  }, 30_000);
});
