import { request } from 'undici';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';
import { eventually } from '../support/liveClient';

/**
 * Graceful stop in-process (`RunningGateway.close`, what SIGTERM triggers; test/shutdown.test.ts
 * runs the real process): readiness turns false first, in-flight operations finish, new
 * connections are refused, and the drain is bounded by SHUTDOWN_TIMEOUT_MS.
 */

const SLOW = '{ engines(first: 1) { totalCount } }';

const pending = (h: Harness) => () => h.simulator.calls.some((call) => call.route === 'listEngines' && call.status === 0);

describe('with SHUTDOWN_DELAY_MS', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ...CACHES_OFF, SHUTDOWN_DELAY_MS: '300' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('turns readiness false at once, finishes the operation in flight, then refuses connections', async () => {
    h.simulator.injectFault({ route: 'listEngines', latencyMs: 1200, times: 1 });
    const slow = h.gql(SLOW);
    await eventually(pending(h), 'the slow upstream call', 10_000);

    const closed = h.gateway.close();
    expect(h.gateway.readiness.state).toEqual({ ready: false, reason: 'shutting-down' });
    // During the delay a load balancer still reaches the instance, and learns it is going away.
    const readyz = await request(new URL('/readyz', h.gateway.url), { reset: true });
    expect(readyz.statusCode).toBe(503);
    expect(await readyz.body.json()).toEqual({ ready: false, reason: 'shutting-down' });

    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data).toEqual({ engines: { totalCount: expect.any(Number) } });
    await closed;
    await expect(request(new URL('/healthz', h.gateway.url), { reset: true })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('with SHUTDOWN_TIMEOUT_MS', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ...CACHES_OFF, SHUTDOWN_TIMEOUT_MS: '300', CSE_TIMEOUT_MS: '60000', REQUEST_TIMEOUT_MS: '60000', CSE_RETRIES: '0' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('cuts an operation that outlives the bound instead of waiting for it', async () => {
    h.simulator.injectFault({ route: 'listEngines', latencyMs: 30_000, times: 1 });
    const slow = h.gql(SLOW).then(
      () => 'answered',
      () => 'cut',
    );
    await eventually(pending(h), 'the slow upstream call', 10_000);
    const started = Date.now();
    await h.gateway.close();
    // Generous margin over the 300 ms bound; the upstream would have taken 30 s.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await slow).toBe('cut');
  });
});
