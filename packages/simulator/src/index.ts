/**
 * An in-process simulator of the CSE engine-manager API, for the gateway's tests and for
 * running the gateway without a cloud account. See the shared API notes for what it imitates.
 */
export { startSimulator } from './server';
export { DEMO_TOKEN, SECOND_TOKEN, OTHER_TOKEN, DEMO_PROJECT_ID, OTHER_PROJECT_ID } from './identities';
export { SEED, type SeedIndex } from './seed';
export { ADVANCE_STEP_MS, NoSuchEngineError, NoSuchJobError } from './store';
export { JobStateError } from './progress';
export { LIVE_DEFAULTS, steadyLoadOptions } from './liveMode';
export {
  DEMO_SIMULATOR_PORT,
  DemoSettingError,
  describeLive,
  startDemoSimulator,
  type DemoOptions,
  type DemoSimulator,
} from './demo';
export { SCENARIOS, SCENARIO_NAMES, scenarioNamed, type Scenario, type ScenarioName } from './scenarios';
export type {
  SimulatorOptions,
  RecordedCall,
  Fault,
  Simulator,
  ErrorDialect,
  RouteName,
  TokenGrant,
  CallFilter,
  StartJobOptions,
  AdvanceJobOptions,
  JobStatusTarget,
  JobPatch,
  LiveOptions,
  LiveStatus,
  TickLiveOptions,
} from './types';
