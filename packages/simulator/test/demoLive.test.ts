import { describeLive, LIVE_DEFAULTS, LiveEnvError, liveFromEnv, SEED, steadyLoadOptions } from '../src';

/** The demo's live mode from the environment of `npm start`, and the banner line describing it. */

const { engines } = SEED;

function refusal(env: Record<string, string>): LiveEnvError {
  try {
    liveFromEnv(env);
  } catch (error) {
    if (error instanceof LiveEnvError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('liveFromEnv', () => {
  it('is on with the defaults unless SIMULATOR_LIVE=false turns it off', () => {
    expect(liveFromEnv({})).toEqual({});
    expect(liveFromEnv({ SIMULATOR_LIVE: 'true' })).toEqual({});
    expect(liveFromEnv({ SIMULATOR_LIVE: ' ', SIMULATOR_LIVE_OPTIONS: '' })).toEqual({});
    expect(liveFromEnv({ SIMULATOR_LIVE: 'false' })).toBeUndefined();
  });

  it('takes SIMULATOR_LIVE_OPTIONS as a JSON object of live options, checked in full', () => {
    const options = { tickMs: 100, ticksPerStep: 3, heartbeat: true, engineIds: [engines.empty] };
    expect(liveFromEnv({ SIMULATOR_LIVE_OPTIONS: JSON.stringify(options) })).toEqual(options);
    expect(liveFromEnv({ SIMULATOR_LIVE: 'true', SIMULATOR_LIVE_OPTIONS: JSON.stringify(steadyLoadOptions()) })).toEqual(steadyLoadOptions());
  });

  it('refuses what it cannot use, in one line naming the variable and the value', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ SIMULATOR_LIVE: 'no' }, 'SIMULATOR_LIVE="no": expected one of true, false'],
      [{ SIMULATOR_LIVE_OPTIONS: '{tickMs:100}' }, 'SIMULATOR_LIVE_OPTIONS="{tickMs:100}": expected a JSON object of live options, as `npm run simulator -- --live-options` takes'],
      [{ SIMULATOR_LIVE_OPTIONS: '[1]' }, 'SIMULATOR_LIVE_OPTIONS="[1]": expected a JSON object of live options, as `npm run simulator -- --live-options` takes'],
      [{ SIMULATOR_LIVE_OPTIONS: '{"tickMs":0}' }, 'SIMULATOR_LIVE_OPTIONS="{\\"tickMs\\":0}": expected valid live options (live: tickMs must be an integer of at least 1, got 0)'],
      [{ SIMULATOR_LIVE_OPTIONS: '{"engineIds":["nope"]}' }, 'expected valid live options (live: engineIds names "nope", which is not a live engine)'],
      [{ SIMULATOR_LIVE_OPTIONS: '{"tickMs":"1\\n2"}' }, 'expected valid live options (live: tickMs must be an integer of at least 1, got 1 2)'],
      [{ SIMULATOR_LIVE: 'false', SIMULATOR_LIVE_OPTIONS: '{}' }, 'SIMULATOR_LIVE_OPTIONS="{}": expected no value while SIMULATOR_LIVE=false turns live mode off'],
    ];
    for (const [env, message] of cases) {
      const error = refusal(env);
      expect(error.message).toContain(message);
      expect(error.message).not.toContain('\n');
      expect(error.variable).toBe(Object.keys(env).at(-1));
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
