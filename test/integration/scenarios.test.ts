import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHES_OFF } from '../support/cachesOff';
import { SCENARIO_NAMES, SCENARIOS, SEED, startSimulator, type ScenarioName, type Simulator } from '@cse-jobs-gateway/simulator';
import { errorCodes, startGatewayOn, type GatewayHarness } from '../support/harness';

/**
 * Each named scenario answers as its description says, through a real gateway: the error code a
 * frontend meets, and for `partial` the data beside it. Started with the scenario (as
 * SIMULATOR_SCENARIO does) and switched to it over `/__sim/scenarios/<name>` alike.
 */

// Eight engines, big-engine among them: one round of CSE_REQUEST_CONCURRENCY's 8 latestJob calls.
const OVERVIEW = '{ engines(first: 8) { nodes { id latestJob { id } } } }';

/** What the gateway answers under each scenario: the codes, and whether the engines still came. */
const EXPECTED: Record<ScenarioName, { codes: string[]; engines: boolean }> = {
  'upstream-down': { codes: ['UPSTREAM_UNAVAILABLE'], engines: false },
  partial: { codes: ['UPSTREAM_UNAVAILABLE'], engines: true },
  slow: { codes: [], engines: true },
  timeouts: { codes: ['UPSTREAM_TIMEOUT'], engines: false },
  'rate-limited': { codes: ['RATE_LIMITED'], engines: false },
  unauthenticated: { codes: ['UNAUTHENTICATED'], engines: false },
  'bad-response': { codes: ['UPSTREAM_BAD_RESPONSE'], engines: false },
};

let simulator: Simulator;
beforeAll(async () => {
  simulator = await startSimulator();
});
afterAll(async () => {
  await simulator?.close();
});

describe('named fault scenarios through the gateway', () => {
  let h: GatewayHarness;
  // A gateway of its own for each test: what one scenario leaves in a gateway (a 429's wait, a
  // refused token) must not show in the next one's codes. Caches off, so each scenario meets the
  // upstream; breakers that do not open; a shorter attempt timeout, which `slow` stays within and
  // `timeouts` passes, as with the default 5 s; short back-offs, since no test here times a retry.
  beforeEach(async () => {
    const breakers = { CSE_BREAKER_FAILURES: '10000', CSE_UPSTREAM_BREAKER_FAILURES: '10000' };
    h = await startGatewayOn(simulator, { ...CACHES_OFF, ...breakers, CSE_TIMEOUT_MS: '3000', CSE_RETRY_BASE_MS: '10' });
  });
  afterEach(async () => {
    simulator.clearFaults();
    await h?.close();
  });

  it.each(SCENARIO_NAMES)('%s, switched to over POST /__sim/scenarios/<name>, answers as its description says', async (name) => {
    const switched = await fetch(`${simulator.url}/__sim/scenarios/${name}`, { method: 'POST' });
    expect(switched.status).toBe(201);
    const started = Date.now();
    const response = await h.gql(OVERVIEW);
    expect([...new Set(errorCodes(response))]).toEqual(EXPECTED[name].codes);
    for (const code of EXPECTED[name].codes) expect(SCENARIOS[name].description).toContain(code);
    if (EXPECTED[name].engines) expect(response.body.data?.engines.nodes).toHaveLength(8);
    else expect(response.body.data ?? null).toBeNull();
    if (name === 'partial') {
      const bigAt = response.body.data.engines.nodes.findIndex((engine: { id: string }) => engine.id === SEED.engines.big);
      expect(response.body.errors!.map((error) => error.path!.join('.'))).toEqual([`engines.nodes.${bigAt}.latestJob`]);
    }
    if (name === 'rate-limited') expect(response.body.errors![0]!.extensions!.retryAfter).toBe(30);
    if (name === 'slow') expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  }, 20_000);

  it('a scenario replaces the faults there were; DELETE /__sim/faults ends it', async () => {
    await fetch(`${simulator.url}/__sim/scenarios/upstream-down`, { method: 'POST' });
    await fetch(`${simulator.url}/__sim/scenarios/partial`, { method: 'POST' });
    expect((await h.gql(OVERVIEW)).body.data?.engines.nodes).toHaveLength(8);
    await fetch(`${simulator.url}/__sim/faults`, { method: 'DELETE' });
    expect(errorCodes(await h.gql(OVERVIEW))).toEqual([]);
  });
});

describe('the scenarios', () => {
  it('covers every scenario there is', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...SCENARIO_NAMES].sort());
  });

  it('GET /__sim/scenarios lists each with its faults; an unknown name is a 400 naming the ones there are', async () => {
    expect(await (await fetch(`${simulator.url}/__sim/scenarios`)).json()).toEqual(JSON.parse(JSON.stringify(SCENARIOS)));
    const unknown = await fetch(`${simulator.url}/__sim/scenarios/nope`, { method: 'POST' });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toBe(`Unknown scenario "nope": one of ${SCENARIO_NAMES.join(', ')}`);
  });
});

describe('startSimulator({ scenario })', () => {
  it('starts with the scenario\'s faults in place, and refuses an unknown name before listening', async () => {
    const simulator = await startSimulator({ scenario: 'unauthenticated' });
    try {
      const answer = await fetch(`${simulator.url}/v2/x/enginemgr/engines`);
      expect(answer.status).toBe(401);
    } finally {
      await simulator.close();
    }
    await expect(startSimulator({ scenario: 'nope' })).rejects.toThrow(/^Unknown scenario "nope": one of upstream-down, partial, /);
  });
});

it('docs/simulator.md describes every scenario by name', () => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'simulator.md'), 'utf8');
  for (const name of SCENARIO_NAMES) expect(doc).toContain(`| \`${name}\` |`);
});
