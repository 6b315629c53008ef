import type { CseIntegerId, CseJob } from './wire';

/**
 * The simulator's public contract. The gateway's tests depend on these names, so they change
 * only together with those tests.
 */

export type RouteName = 'listEngines' | 'getEngine' | 'listJobs' | 'getJob' | 'unknown';

export interface TokenGrant {
  projects: string[];
  expired?: boolean;
}

export interface SimulatorOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0: the OS picks a free port, so parallel test files never collide. */
  port?: number;
  /**
   * Replaces (does not extend) the default tokens: DEMO_TOKEN and SECOND_TOKEN for
   * DEMO_PROJECT_ID, OTHER_TOKEN for OTHER_PROJECT_ID.
   */
  tokens?: Record<string, TokenGrant>;
  /** Default 100: a larger `limit` is answered with 400. */
  maxLimit?: number;
  /**
   * Default 0: added before every API answer (not the `/__sim/` controls), on top of any fault's
   * latency. Benchmarks use it to stand in for the network distance to the real upstream.
   */
  latencyMs?: number;
  /**
   * Default off, so tests stay deterministic. `true` or an options object turns live mode on at
   * start: a timer advances every running job (see LiveOptions).
   */
  live?: boolean | LiveOptions;
  /**
   * Default none: a named fault scenario (see scenarios.ts) injected once listening, as if its
   * faults had been added by `injectFault`; `clearFaults`/`reset` remove them.
   */
  scenario?: string;
}

export interface RecordedCall {
  method: string;
  route: RouteName;
  path: string;
  query: Record<string, string>;
  /** Lower-cased: x-auth-token, x-enterprise-project-id, accept, content-type, traceparent, x-request-id. */
  headers: Record<string, string | undefined>;
  projectId?: string;
  engineId?: string;
  jobId?: string;
  /** The status sent; 0 while the answer is pending (injected latency) or when the socket was destroyed. */
  status: number;
  /** When the answer was made (epoch ms); absent while it is pending. Benchmarks time deliveries from it. */
  answeredAt?: number;
}

export type ErrorDialect = 'cse' | 'camel' | 'snake_message' | 'code_message' | 'apig' | 'empty' | 'html';

export interface Fault {
  route?: RouteName;
  engineId?: string;
  jobId?: string;
  /** Default: unlimited. */
  times?: number;
  latencyMs?: number;
  status?: number;
  headers?: Record<string, string>;
  body?: string | object;
  dialect?: ErrorDialect;
  errorCode?: string;
  malformed?: boolean;
  destroy?: boolean;
}

export type CallFilter = Partial<Pick<RecordedCall, 'route' | 'engineId' | 'jobId' | 'projectId'>>;

export interface Simulator {
  readonly url: string;
  /** A snapshot: later calls do not appear in an array already obtained. */
  readonly calls: readonly RecordedCall[];
  callCount(filter?: CallFilter): number;
  /** The most API requests answered at the same moment since the last resetCalls()/reset(). */
  readonly peakInFlight: number;
  resetCalls(): void;
  injectFault(fault: Fault): () => void;
  clearFaults(): void;
  addJobs(engineId: string, count: number, overrides?: Partial<CseJob>): CseJob[];
  /**
   * Adds one job at the head of the engine's list (so it becomes the engine's latestJobId), in
   * PreInit with not-started tasks and endTime 0, for `advanceJob` or live mode to move. Its id is
   * larger and its startTime later than every job's so far. Throws NoSuchEngineError for an
   * engine that is not live; TypeError / RangeError for bad options.
   */
  startJob(engineId: string, options?: StartJobOptions): CseJob;
  /**
   * Moves a job along the lifecycle (see AdvanceJobOptions) and returns it as it is now. A
   * terminal job (Finished, Error, Timeout) is returned unchanged, whatever the options. Throws
   * NoSuchEngineError / NoSuchJobError when the engine is not live or the job is not one of its
   * jobs, JobStateError when the job's status is outside the lifecycle (the seed's `Suspended`)
   * or past `to`, TypeError / RangeError for bad options. Works on any job: seeded, added or
   * started.
   */
  advanceJob(engineId: string, jobId: CseIntegerId, options?: AdvanceJobOptions): CseJob;
  /**
   * Replaces plain fields of a job (see JobPatch) and returns it. Not progress: status and times
   * stay as they are. Deliberately allowed on terminal jobs too, the one way to break the
   * upstream's promise that they never change, so a test can show what the gateway does then.
   */
  updateJob(engineId: string, jobId: CseIntegerId, patch: JobPatch): CseJob;
  /** Turns live mode on, or restarts it with these options (tick count 0, initial jobs again). */
  startLive(options?: LiveOptions): void;
  /**
   * Runs live ticks now, exactly as the timer's (see TickLiveOptions), and returns the status;
   * the timer keeps its own schedule. For tests and benchmarks that want progress without
   * waiting: with a tickMs longer than the test, the ticks are theirs alone. Throws when live mode
   * is off, RangeError / TypeError for bad options.
   */
  tickLive(options?: TickLiveOptions): LiveStatus;
  /** Turns live mode off; jobs stay where they are. A no-op when it is off. */
  stopLive(): void;
  /** Undefined while live mode is off. */
  readonly live: LiveStatus | undefined;
  /** Restores the seed, clears faults and calls; live mode, when on, starts over (see LiveOptions). */
  reset(): void;
  /** Also stops live mode's timer. */
  close(): Promise<void>;
}

/**
 * Job progress. Every job whose status is PreInit, Init or Executing is "running" and moves along
 * the lifecycle PreInit → Init → Executing → Finished one step at a time. A job with n ≥ 1 tasks
 * takes n + 2 steps from PreInit to Finished:
 *
 *   1        PreInit → Init: the job's not-started tasks become Init (updateTime set).
 *   2        Init → Executing: the job gets scheduling 1; its first task by taskOrder becomes
 *            Executing (startTime and updateTime set).
 *   3..n+1   the Executing task becomes Finished (endTime, updateTime and
 *            taskExecutorBrief.duration set) and the next task by taskOrder becomes Executing.
 *   n+2      the last task becomes Finished, and so does the job: scheduling 0, endTime set.
 *
 * Invariants at every moment, in the list and the job details alike (both read the same record):
 * scheduling is 1 exactly while the job is Executing; the job's endTime is 0 until it reaches a
 * terminal status (Finished, Error, Timeout) and set from then on; while Executing exactly one task
 * is Executing, those before it by taskOrder are Finished and those after it have not started; a
 * terminal job never changes again (unless a test says so with updateJob). A job never moves in
 * its engine's list: the list stays newest first (startTime, then id).
 *
 * Times come from the simulator's own clock, never the wall clock, so equal call sequences give
 * equal answers. It starts at the newest seed job's startTime and only moves forward: by
 * JOB_SPACING_MS (60 s) for each job started or added (or to a later startTime given to addJobs),
 * by ADVANCE_STEP_MS (8 s) for each step of advanceJob (an Error / Timeout ending is one step),
 * and by tickMs for each live tick (all jobs stepped or beating in one tick share its time).
 */

/** The statuses `advanceJob` can be sent to. */
export type JobStatusTarget = 'Init' | 'Executing' | 'Finished' | 'Error' | 'Timeout';

export interface StartJobOptions {
  /** Default 3; an integer from 1 to 10,000. The tasks get taskOrder 0..n-1. */
  taskCount?: number;
  /** Default 'Configure'. */
  type?: string;
  /** Default ''. */
  description?: string;
  /** Default JSON text naming the engine and the job type, as the factory writes for every job. */
  context?: string;
  /** Default 'demo-user'. */
  createUser?: string;
}

/** At most one of the two; neither means `{ steps: 1 }`. */
export interface AdvanceJobOptions {
  /**
   * A positive integer: that many steps, each stamped ADVANCE_STEP_MS after the previous one.
   * Steps beyond Finished are not an error: the job stops at Finished.
   */
  steps?: number;
  /**
   * Straight to this status: Init, Executing or Finished by as many steps as it takes (each task
   * in turn, each step stamped as above; none when the job is there already); Error or Timeout
   * at once, from any running status: the task the job is at (the Executing one, or the first
   * not finished by taskOrder) takes that status and ends (its startTime is set if it had not
   * started; a Timeout task gets `timeout: 1`), later tasks stay not started, the job gets
   * scheduling 0 and endTime. A target the job is already past (Init for an Executing job)
   * throws a JobStateError (HTTP 409).
   */
  to?: JobStatusTarget;
}

/**
 * Plain fields of a job: a change that is not progress, for tests of change detection. Status,
 * scheduling, times, tasks and ids belong to the lifecycle (or the simulator) and are refused.
 */
export interface JobPatch {
  description?: string | null;
  context?: string | null;
  createUser?: string | null;
  type?: string | null;
}

/**
 * Live mode, for the demo and benchmarks. Each tick visits every running job (of every engine,
 * seed jobs included): the job advances by one step on every `ticksPerStep`-th tick it has seen
 * (see there), and with `heartbeat` it shows a sign of life on the ticks in between. Then, every
 * `newJobEveryTicks` ticks, one job is started in PreInit on the next engine of `engineIds`
 * (round robin) that has fewer than `maxRunningPerEngine` running jobs; when every engine is
 * full, that start is skipped. Jobs started in a tick first count a tick on the next one. When
 * live mode starts, and after every reset() while it is on, `initialJobs` jobs are started at
 * once (same round robin and bound), the i-th advanced by i mod 3 steps so the first ones show
 * PreInit, Init and Executing right away. Everything but the timer is deterministic: equal tick
 * counts give equal answers. A tick costs O(running jobs): nothing is re-sorted.
 *
 * The defaults are the demo: with 3 tasks a job takes 5 ticks (one minute) from PreInit to
 * Finished, task by task, and a new job appears every 24 s.
 *
 * A benchmark's steady load is `steadyLoadOptions()`: 500 running jobs over 5 engines that all
 * change every second for 50 minutes, with small bodies (3 tasks a job):
 * `{ tickMs: 1000, ticksPerStep: 1000, heartbeat: true, taskCount: 3, initialJobs: 500,
 * maxRunningPerEngine: 100, newJobEveryTicks: 0, engineIds }` where engineIds are five engines of
 * the demo project with no running seed job: empty, single, onePage and onePagePlusOne of
 * SEED.engines and filler-01 (`a0000000-0000-4000-8000-000000000101`). All 500 step together on
 * ticks 1000 and 2000 and beat on every other tick; on tick 3000 the third started in Executing
 * finish.
 */
export interface LiveOptions {
  /** Default 12,000; at least 1. Also how far the simulator's clock moves per tick. */
  tickMs?: number;
  /** Default 2; 0 starts no job after the initial ones. */
  newJobEveryTicks?: number;
  /** Default 2; a positive integer. Running seed jobs count too. */
  maxRunningPerEngine?: number;
  /** Default 3: tasks per job started by live mode (1 to 10,000). */
  taskCount?: number;
  /** Default 3: jobs started at once when live mode starts (and after a reset). */
  initialJobs?: number;
  /**
   * Default 1; an integer of at least 1. A running job takes one lifecycle step on its
   * ticksPerStep-th tick, its 2·ticksPerStep-th and so on: ticks counted per job, from the tick
   * after it was started (from the first tick after live mode started or restarted, for a job
   * already running then), so jobs started on different ticks step on different ticks. Steps by
   * advanceJob do not change the count. With 3 tasks and 1000, a job runs for 5000 ticks.
   */
  ticksPerStep?: number;
  /**
   * Default false. When true, on every tick that does not step a running job, the task the job
   * is at gets the tick's time as its updateTime, as an executor's progress report would: the
   * Executing task, or in PreInit and Init the first task, which is being prepared. Nothing else
   * changes. The list and the job details show it alike (they read the same record).
   */
  heartbeat?: boolean;
  /**
   * Default: every live engine of the demo project, in engine-list order (newest first). Each id
   * must name a live engine.
   */
  engineIds?: string[];
}

export interface TickLiveOptions {
  /** Default 1: how many ticks, one after the other; at most 10,000. */
  ticks?: number;
}

export interface LiveStatus {
  /** The options in force, defaults filled in. */
  options: Required<LiveOptions>;
  /** Ticks since live mode started or the simulator was last reset. */
  ticks: number;
  /** Jobs started by live mode since then, the initial ones included. */
  started: number;
  /** Running jobs (PreInit, Init, Executing) in the whole simulator, whoever started them. */
  running: number;
}
