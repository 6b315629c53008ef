import { checkTaskCount } from './controls';
import { DEMO_PROJECT_ID } from './identities';
import type { SimJob } from './model';
import { fillerEngineId, SEED_ENGINE_IDS } from './seed';
import type { SimStore } from './store';
import type { LiveOptions, LiveStatus } from './types';

/**
 * Live mode: a timer that moves the store's running jobs along and starts new ones, so the demo
 * (and a benchmark) shows jobs progressing. What a tick does is in `tick()`, callable without the
 * timer, so tests can drive it tick by tick; the timer only decides when.
 */

/**
 * The demo: 3 tasks take 5 ticks of 12 s (a minute) from PreInit to Finished; a new job every 24 s.
 * A step on every tick (ticksPerStep 1) and no heartbeat: a job changes only when it steps. A
 * benchmark's steady load slows the steps and turns the heartbeat on (see LiveOptions).
 */
export const LIVE_DEFAULTS = {
  tickMs: 12_000,
  newJobEveryTicks: 2,
  maxRunningPerEngine: 2,
  taskCount: 3,
  initialJobs: 3,
  ticksPerStep: 1,
  heartbeat: false,
} as const;

/**
 * A benchmark's steady load: 500 running jobs, 100 on each of 5 engines with no running seed job,
 * every one changing on every tick of 1 s (a heartbeat, and a step every 1000 ticks), none
 * finishing for 3000 ticks (50 minutes), and 3 tasks a job so that the bodies stay small. A
 * fresh object per call: callers may adjust it.
 */
export function steadyLoadOptions(): Required<LiveOptions> {
  return {
    tickMs: 1000,
    ticksPerStep: 1000,
    heartbeat: true,
    taskCount: 3,
    initialJobs: 500,
    maxRunningPerEngine: 100,
    newJobEveryTicks: 0,
    engineIds: [SEED_ENGINE_IDS.empty, SEED_ENGINE_IDS.single, SEED_ENGINE_IDS.onePage, SEED_ENGINE_IDS.onePagePlusOne, fillerEngineId(1)],
  };
}

/** Types of the jobs live mode starts, in turn, so a viewer tells them apart. */
const LIVE_JOB_TYPES = ['Upgrade', 'Configure', 'Modify'] as const;
/** Initial job i is advanced i mod 3 steps: PreInit, Init, Executing are on screen at once. */
const INITIAL_POSITIONS = 3;

const KEYS = new Set<string>([
  'tickMs',
  'newJobEveryTicks',
  'maxRunningPerEngine',
  'taskCount',
  'initialJobs',
  'ticksPerStep',
  'heartbeat',
  'engineIds',
]);

type IntegerOption = 'tickMs' | 'newJobEveryTicks' | 'maxRunningPerEngine' | 'initialJobs' | 'ticksPerStep';

export type CheckedLiveOptions = Required<LiveOptions>;

/** Checked where the options enter, naming the option and the value, as configuration should be. */
export function checkLiveOptions(input: unknown, store: SimStore): CheckedLiveOptions {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new TypeError('live options must be an object');
  const options = input as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key)) throw new TypeError(`live: unknown option "${key}" (known: ${[...KEYS].join(', ')})`);
  }
  const integer = (key: IntegerOption, min: number): number => {
    const value = options[key] ?? LIVE_DEFAULTS[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      throw new RangeError(`live: ${key} must be an integer of at least ${min}, got ${String(value)}`);
    }
    return value;
  };
  const heartbeat = options.heartbeat ?? LIVE_DEFAULTS.heartbeat;
  if (typeof heartbeat !== 'boolean') {
    throw new TypeError(`live: heartbeat must be true or false, got ${typeof heartbeat === 'string' ? JSON.stringify(heartbeat) : String(heartbeat)}`);
  }
  const engineIds = options.engineIds ?? store.liveEngineIds(DEMO_PROJECT_ID);
  if (!Array.isArray(engineIds) || engineIds.length === 0 || !engineIds.every((id) => typeof id === 'string')) {
    throw new TypeError('live: engineIds must be a non-empty array of engine ids');
  }
  for (const id of engineIds as string[]) {
    if (!store.hasLiveEngine(id)) throw new RangeError(`live: engineIds names "${id}", which is not a live engine`);
  }
  return {
    tickMs: integer('tickMs', 1),
    newJobEveryTicks: integer('newJobEveryTicks', 0),
    maxRunningPerEngine: integer('maxRunningPerEngine', 1),
    taskCount: checkTaskCount(options.taskCount ?? LIVE_DEFAULTS.taskCount, 'live: taskCount'),
    initialJobs: integer('initialJobs', 0),
    ticksPerStep: integer('ticksPerStep', 1),
    heartbeat,
    engineIds: [...(engineIds as string[])],
  };
}

export class LiveMode {
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private started = 0;
  /** Index in engineIds of the engine the next start tries first. */
  private cursor = 0;

  constructor(
    private readonly store: SimStore,
    private readonly options: CheckedLiveOptions,
  ) {}

  /**
   * From the beginning: counters to zero, the initial jobs, a fresh timer. Also what runs after a
   * reset, so a reset simulator in live mode is indistinguishable from a newly started one.
   */
  start(): void {
    this.stop();
    this.ticks = 0;
    this.started = 0;
    this.cursor = 0;
    // Running jobs count their ticks from this start, so a restart steps them as a fresh start would.
    this.store.restartLiveTicks();
    const counts = this.store.runningPerEngine();
    for (let i = 0; i < this.options.initialJobs; i++) {
      const job = this.startOne(counts);
      if (!job) break;
      const steps = i % INITIAL_POSITIONS;
      if (steps > 0) this.store.advanceJob(job.engineId, job.id, { steps });
    }
    this.timer = setInterval(() => this.tickReporting(), this.options.tickMs);
    // The demo process and jest must be free to exit while live mode is on.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Every running job a step on its every ticksPerStep-th tick, else maybe a heartbeat (all at one
   * time), then maybe one new job.
   */
  tick(): void {
    this.ticks += 1;
    this.store.advanceRunning(this.store.advanceClock(this.options.tickMs), this.options);
    const every = this.options.newJobEveryTicks;
    if (every > 0 && this.ticks % every === 0) this.startOne(this.store.runningPerEngine());
  }

  status(): LiveStatus {
    return {
      options: { ...this.options, engineIds: [...this.options.engineIds] },
      ticks: this.ticks,
      started: this.started,
      running: this.store.runningCount,
    };
  }

  /**
   * Starts a job on the first engine, from the cursor on, that is below the bound; none when all
   * are full. `counts` is updated so that a burst of starts sees its own jobs.
   */
  private startOne(counts: Map<string, number>): SimJob | undefined {
    const { engineIds, maxRunningPerEngine, taskCount } = this.options;
    for (let k = 0; k < engineIds.length; k++) {
      const index = (this.cursor + k) % engineIds.length;
      const engineId = engineIds[index] as string;
      const running = counts.get(engineId) ?? 0;
      if (running >= maxRunningPerEngine) continue;
      this.cursor = (index + 1) % engineIds.length;
      this.started += 1;
      counts.set(engineId, running + 1);
      return this.store.startJob(engineId, {
        taskCount,
        type: LIVE_JOB_TYPES[(this.started - 1) % LIVE_JOB_TYPES.length],
        description: `Live job ${this.started}`,
      });
    }
    return undefined;
  }

  /** A tick that throws is a simulator bug: say so, and keep the demo alive. */
  private tickReporting(): void {
    try {
      this.tick();
    } catch (error) {
      console.error('[cse-simulator] live tick failed', error);
    }
  }
}
