import WebSocket from 'ws';
import { createGatewayClient } from '../../examples/typed-client/client';
import { JobDetails, WatchJob } from '../../examples/typed-client/operations';
import { DEMO_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';
import { eventually } from '../support/liveClient';

/**
 * The example client's subscriptions, as a frontend uses them: Apollo Client 4 with
 * GraphQLWsLink on the gateway's own URL, each pushed state written to the cache under the job's
 * key, so what a query already shows updates itself.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ...CACHES_OFF, SUBSCRIPTION_POLL_MS: '100' });
});
afterAll(() => h.close());

it('watches a job to its end over WebSocket, and the cached job of a query follows it', async () => {
  const engineId = SEED.engines.onePage;
  const job = h.simulator.startJob(engineId, { taskCount: 1 });
  const client = createGatewayClient({ url: h.gateway.url, token: DEMO_TOKEN, webSocketImpl: WebSocket });
  try {
    const id = String(job.id);
    const details = await client.query({ query: JobDetails, variables: { engineId, id } });
    expect(details.data?.job?.status).toBe('PRE_INIT');

    const statuses: string[] = [];
    let completed = false;
    const subscription = client.subscribe({ query: WatchJob, variables: { engineId, id } }).subscribe({
      next: (result) => {
        if (result.data?.jobUpdated) statuses.push(result.data.jobUpdated.status);
      },
      complete: () => (completed = true),
    });
    await eventually(() => statuses.length === 1, 'the first state');
    h.simulator.advanceJob(engineId, job.id, { to: 'Finished' });
    await eventually(() => completed, 'the subscription to complete after FINISHED');
    subscription.unsubscribe();
    expect(statuses[0]).toBe('PRE_INIT');
    expect(statuses.at(-1)).toBe('FINISHED');
    // The query's job, read from the cache only: the pushed state replaced it under its key.
    const cached = client.readQuery({ query: JobDetails, variables: { engineId, id } });
    expect(cached?.job?.status).toBe('FINISHED');
  } finally {
    client.stop();
  }
});
