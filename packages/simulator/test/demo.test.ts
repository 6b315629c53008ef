import { DEMO_SIMULATOR_PORT, DemoSettingError, describeLive, LIVE_DEFAULTS, SEED, startDemoSimulator, steadyLoadOptions, type DemoOptions } from '../src';

/**
 * The demo's simulator as `npm start` runs it (its settings read by the gateway's loadConfig), and
 * the banner line describing live mode. test/start.test.ts runs it through the compiled gateway.
 */

const { engines } = SEED;

async function refusal(options: DemoOptions): Promise<DemoSettingError> {
  const error = await startDemoSimulator(options, () => undefined).then(
    async (demo) => {
      await demo.simulator.close();
      throw new Error(`accepted ${JSON.stringify(options)}`);
    },
    (refused: unknown) => refused,
  );
  if (error instanceof DemoSettingError) return error;
  throw error;
}

describe('startDemoSimulator', () => {
  it('starts in live mode with the given options, checked in full, and says so in its banner', async () => {
    const liveOptions = { tickMs: 100, ticksPerStep: 3, heartbeat: true, engineIds: [engines.empty] };
    const { simulator, banner } = await startDemoSimulator({ port: 0, live: true, liveOptions }, () => undefined);
    try {
      expect(simulator.live?.options).toMatchObject(liveOptions);
      expect(banner).toContain(`Live mode is on: ${describeLive(simulator.live!.options)}. SIMULATOR_LIVE=false turns it off.`);
    } finally {
      await simulator.close();
    }
    const off = await startDemoSimulator({ port: 0, live: false, liveOptions: steadyLoadOptions() }, () => undefined);
    await off.simulator.close();
    expect(off.simulator.live).toBeUndefined();
    expect(off.banner).toContain('Live mode is off (SIMULATOR_LIVE=false): the simulated jobs stay as seeded.');
  });

  it("leaves its default port to the gateway when the gateway listens there, without a warning", async () => {
    const warnings: string[] = [];
    const { simulator } = await startDemoSimulator({ live: false, reserved: [DEMO_SIMULATOR_PORT] }, (line) => warnings.push(line));
    await simulator.close();
    expect(new URL(simulator.url).port).not.toBe(String(DEMO_SIMULATOR_PORT));
    expect(warnings).toEqual([]);
  });

  it('refuses what only the simulator can check, before it listens, in one line naming the variable and the value', async () => {
    const cases: Array<[DemoOptions, string]> = [
      [{ live: true, liveOptions: { tickMs: 0 } }, 'SIMULATOR_LIVE_OPTIONS="{\\"tickMs\\":0}": expected valid live options (live: tickMs must be an integer of at least 1, got 0)'],
      [{ live: true, liveOptions: { engineIds: ['nope'] } }, 'expected valid live options (live: engineIds names "nope", which is not a live engine)'],
      [{ live: true, liveOptions: { tickMs: '1\n2' } }, 'expected valid live options (live: tickMs must be an integer of at least 1, got 1 2)'],
      [{ live: true, scenario: 'nope' }, 'SIMULATOR_SCENARIO="nope": expected one of upstream-down, partial, slow, timeouts, rate-limited, bad-response, unauthenticated'],
    ];
    for (const [options, message] of cases) {
      const error = await refusal(options);
      expect(error.message).toContain(message);
      expect(error.message).not.toContain('\n');
      expect(error.variable).toBe(options.scenario === undefined ? 'SIMULATOR_LIVE_OPTIONS' : 'SIMULATOR_SCENARIO');
    }
  });
});

describe('describeLive', () => {
  it('says in one line what the demo defaults do', () => {
    const line = describeLive({ ...LIVE_DEFAULTS, engineIds: [engines.empty] });
    expect(line).toBe(
      'running jobs take a step every 12 s (PreInit → Init → Executing → Finished, task by task: 1 min for a job of 3 tasks); ' +
        'a new job every 24 s, at most 2 running per engine',
    );
  });

  it('mentions the heartbeat, and says when no new jobs start', () => {
    expect(describeLive(steadyLoadOptions())).toBe(
      'running jobs take a step every 16.7 min (PreInit → Init → Executing → Finished, task by task: 83.3 min for a job of 3 tasks); ' +
        "in between, the current task's updateTime moves every 1 s; no new jobs",
    );
    expect(describeLive({ ...LIVE_DEFAULTS, tickMs: 100, taskCount: 2, engineIds: [engines.empty] })).toMatch(/step every 100 ms .*400 ms for a job of 2 tasks/);
  });
});
