import { SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';
import { collect, eventually, liveClient } from '../support/liveClient';

/**
 * A subscription event's errors are answered as an HTTP operation's: past the bound on sent bytes, the
 * fields after the first that needed more share one error, answered once with their count.
 */

const LIMIT = 64 * 1024;
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ...CACHES_OFF, OPERATION_MAX_UPSTREAM_BYTES: String(LIMIT) });
});
afterAll(() => h.close());

it("answers an event's fields past the bound with the first one's error, then one counting the rest", async () => {
  const engineId = SEED.engines.onePage;
  const tasks = Array.from({ length: 300 }, (_, i) => ({ id: i + 1, taskName: 't', taskOrder: i, status: 'Finished', log: 'L'.repeat(1000) }));
  const [job] = h.simulator.addJobs(engineId, 1, { tasks } as never);
  const client = liveClient(h.gateway.url);
  try {
    const sub = collect(client, 'subscription ($e: ID!, $id: ID!) { jobUpdated(engineId: $e, id: $id) { id tasks { log } } }', { e: engineId, id: String(job!.id) });
    await eventually(() => sub.results.length > 0, 'the first state');
    const [first, rest, ...none] = sub.results[0]!.errors as unknown as Array<{ path?: unknown[]; extensions: Record<string, unknown> }>;
    expect(none).toEqual([]);
    expect(first!.path).toEqual(['jobUpdated', 'tasks', expect.any(Number), 'log']);
    expect(first!.extensions).toEqual({ code: 'RESPONSE_TOO_LARGE', reason: 'SENT_BYTES', limit: LIMIT });
    expect(rest!.path).toBeUndefined();
    expect(rest!.extensions).toEqual({ code: 'RESPONSE_TOO_LARGE', reason: 'SENT_BYTES', limit: LIMIT, fields: expect.any(Number) });
    expect(rest!.extensions.fields).toBeGreaterThan(200);
  } finally {
    await client.dispose();
  }
});
