import { SEED } from '@cse-jobs-gateway/simulator';
import { errorCodes, startHarness, type Harness } from '../support/harness';
import { collect, liveClient } from '../support/liveClient';

/**
 * A subscriber is handed a stored state (its group's last result, its watch's last read) only
 * while its credential scope may be served stored answers (the credential gate's verdict, as the
 * caches): after a 401 it waits for the next poll, or gets UNAUTHENTICATED while the gate
 * remembers the refusal.
 */

const engineId = SEED.engines.onePage;
const watched = 'subscription ($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id status } }';
// Another selection: a group of its own, served by the same watch.
const other = 'subscription ($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id description } }';

/** A subscriber's first state, then a 401 learnt by a query of another job (the watched one is cached). */
async function revokedAfterFirstState(h: Harness) {
  const a = liveClient(h.gateway.url);
  const job = h.simulator.startJob(engineId);
  const variables = { engineId, id: String(job.id) };
  const first = collect(a, watched, variables);
  await first.next(1);
  const clear = h.simulator.injectFault({ status: 401 });
  const query = await h.gql('query ($engineId: ID!) { job(engineId: $engineId, id: "1") { id } }', { engineId });
  expect(errorCodes(query)).toEqual(['UNAUTHENTICATED']);
  h.simulator.resetCalls();
  return { a, first, variables, clear };
}

describe('a new subscription after its token was refused', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('gets no stored state but UNAUTHENTICATED while the gate remembers the refusal, with no call', async () => {
    // Polls far apart: no poll between the refusal and the new subscribers.
    h = await startHarness({ SUBSCRIPTION_POLL_MS: '10000' });
    const { a, first, variables } = await revokedAfterFirstState(h);
    const b = liveClient(h.gateway.url);
    const same = collect(b, watched, variables);
    const apart = collect(b, other, variables);
    for (const each of [same, apart, first]) {
      await expect(each.done).rejects.toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })]);
    }
    expect(same.results).toEqual([]);
    expect(apart.results).toEqual([]);
    expect(h.simulator.callCount()).toBe(0);
    await a.dispose();
    await b.dispose();
  });

  it('gets the state the next poll reads, not the stored one, when no refusal is remembered', async () => {
    h = await startHarness({ SUBSCRIPTION_POLL_MS: '10000', CSE_AUTH_REJECTION_TTL_MS: '0' });
    const { a, first, variables, clear } = await revokedAfterFirstState(h);
    clear();
    const b = liveClient(h.gateway.url);
    const subscribers = [collect(b, watched, variables), collect(b, other, variables)];
    for (const each of subscribers) {
      const [state] = await each.next(1);
      expect(state!.data!.jobUpdated.id).toBe(variables.id);
    }
    // Each first state came from a read after the refusal.
    expect(h.simulator.callCount({ route: 'getJob' })).toBeGreaterThanOrEqual(1);
    // The first subscriber, who has that state already, is not sent it twice.
    expect(first.results).toHaveLength(1);
    subscribers.forEach((each) => each.stop());
    first.stop();
    await a.dispose();
    await b.dispose();
  });
});
