import { SEED_ENGINE_IDS } from './seed';
import type { Fault } from './types';

/**
 * Named fault scenarios: sets of the faults of faults.ts, for a frontend to build its error and
 * loading states against (`SIMULATOR_SCENARIO` under `npm start`, `POST /__sim/scenarios/<name>`
 * at run time). Each names the error code the gateway answers with, under its default settings;
 * test/simulator/scenarios.test.ts holds each to it through a real gateway.
 */
export interface Scenario {
  /** What a frontend sees, in one line. */
  readonly description: string;
  readonly faults: readonly Fault[];
}

export const SCENARIOS = {
  'upstream-down': {
    description: 'every API call answers 503: each operation fails with UPSTREAM_UNAVAILABLE',
    faults: [{ status: 503 }],
  },
  partial: {
    description: "big-engine's job details answer 503: the engine list comes with partial data (its latestJob null, UPSTREAM_UNAVAILABLE at that path)",
    faults: [{ route: 'getJob', engineId: SEED_ENGINE_IDS.big, status: 503 }],
  },
  slow: {
    description: 'every API answer takes 1.5 s longer: loading states stay on screen',
    faults: [{ latencyMs: 1500 }],
  },
  timeouts: {
    description: "every API answer takes 6 s, past CSE_TIMEOUT_MS's default 5 s: UPSTREAM_TIMEOUT",
    faults: [{ latencyMs: 6000 }],
  },
  'rate-limited': {
    description: 'every API call answers 429 with Retry-After: 30: RATE_LIMITED with extensions.retryAfter 30',
    faults: [{ status: 429, headers: { 'Retry-After': '30' } }],
  },
  'bad-response': {
    description: 'every API answer is cut in half: UPSTREAM_BAD_RESPONSE',
    faults: [{ malformed: true }],
  },
  unauthenticated: {
    description: 'every API call answers 401 as IAM does for an expired token: UNAUTHENTICATED, and for CSE_AUTH_REJECTION_TTL_MS (10 s) after the scenario ends',
    faults: [{ status: 401 }],
  },
} as const satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;

export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name);
}

/** The scenario by name, or a TypeError that lists the names there are. */
export function scenarioNamed(name: string): Scenario {
  if (!isScenarioName(name)) throw new TypeError(`Unknown scenario "${name}": one of ${SCENARIO_NAMES.join(', ')}`);
  return SCENARIOS[name];
}
