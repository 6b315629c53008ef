import { request } from 'undici';
import { DEMO_PROJECT_ID, DEMO_TOKEN, startSimulator, type Simulator } from '@cse-jobs-gateway/simulator';

/**
 * The simulator's global added latency (`SimulatorOptions.latencyMs`), which the benchmark uses
 * to stand in for the distance to the real upstream. Lower bounds only: a delay never ends early.
 */
describe('simulator latencyMs', () => {
  let simulator: Simulator | undefined;
  afterEach(async () => {
    await simulator?.close();
    simulator = undefined;
  });

  const timed = async (url: string, headers: Record<string, string> = {}) => {
    const started = performance.now();
    const response = await request(url, { headers });
    await response.body.text();
    return { status: response.statusCode, ms: performance.now() - started };
  };

  it('delays every API answer by at least latencyMs', async () => {
    simulator = await startSimulator({ latencyMs: 150 });
    const answer = await timed(`${simulator.url}/v2/${DEMO_PROJECT_ID}/enginemgr/engines`, { 'x-auth-token': DEMO_TOKEN });
    expect(answer.status).toBe(200);
    // Timers may fire up to a millisecond early; 150 ms of latency never looks like 145.
    expect(answer.ms).toBeGreaterThanOrEqual(145);
  });

  it('does not delay the /__sim/ controls (a benchmark reads its counters between runs)', async () => {
    simulator = await startSimulator({ latencyMs: 10_000 });
    const answer = await timed(`${simulator.url}/__sim/calls`);
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(5_000);
  });

  it('close() does not wait for answers held by the latency', async () => {
    simulator = await startSimulator({ latencyMs: 60_000 });
    const pending = request(`${simulator.url}/v2/${DEMO_PROJECT_ID}/enginemgr/engines`, { headers: { 'x-auth-token': DEMO_TOKEN } }).catch(
      (error: unknown) => error,
    );
    while (simulator.callCount() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await simulator.close();
    expect(await pending).toBeInstanceOf(Error);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses latencyMs %p at start', async (latencyMs) => {
    await expect(startSimulator({ latencyMs })).rejects.toThrow(/latencyMs must be a non-negative number/);
  });
});
