import { DEMO_PROJECT_ID, OTHER_PROJECT_ID } from './identities';
import { makeJob, type JobSpec } from './jobFactory';
import type { SimEngine, SimEngineRecord, SimJob } from './model';

/**
 * The seed: fixed engines and jobs that exercise every paging boundary and every documented
 * variance of the upstream. Built fresh on every reset so a test that mutates the store cannot
 * leak into the next one. No clock, no randomness: times count up from fixed bases.
 */

export const ENGINE_BASE_TIME = 1_690_000_000_000;
export const JOB_BASE_TIME = 1_700_000_000_000;
/** Jobs start this far apart (except the deliberate tie in `big`). */
export const JOB_SPACING_MS = 60_000;
export const FIRST_JOB_ID = 10_001;
/** Above 2^31 so that a gateway storing task ids in 32-bit integers breaks visibly. */
export const FIRST_TASK_ID = 3_000_000_001;
/** 2^53 + 1: the first integer a double cannot hold. */
export const BIG_TASK_ID = 9_007_199_254_740_993n;

const DAY_MS = 86_400_000;

const demoId = (n: number): string => `a0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const otherId = (n: number): string => `b0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

export interface SeedIndex {
  engines: {
    empty: string;
    single: string;
    onePage: string;
    onePagePlusOne: string;
    maxPage: string;
    big: string;
    drift: string;
    gone: string;
    other: string;
  };
  /** Seed job count per engine id, for every engine whose jobs can be listed (not `gone`). */
  jobCounts: Record<string, number>;
}

type JobDraft = Pick<JobSpec, 'type' | 'status'> &
  Partial<Pick<JobSpec, 'taskStatuses' | 'arrayOrder' | 'taskTweaks' | 'description' | 'context'>>;

interface EngineDef {
  id: string;
  projectId: string;
  name: string;
  type: string;
  status: string;
  state: 'live' | 'gone';
  jobs: number | readonly JobDraft[];
  /** Status of the newest seeded job, for engines that should show one still running. */
  newestStatus?: string;
  /** Positions (0 = oldest) whose startTime equals the previous job's: exercises the id tie-break. */
  tiedWithPrevious?: readonly number[];
}

/**
 * Drift: every variance the notes warn about, in 7 jobs (oldest first). Tasks are listed out of
 * taskOrder, job types and statuses include the spelling variants and values nobody documented.
 */
const DRIFT_JOBS: readonly JobDraft[] = [
  { type: 'Create', status: 'Finished', arrayOrder: [2, 0, 1], description: 'Create engine' },
  { type: 'Update', status: 'Finished', arrayOrder: [1, 0, 2] },
  {
    type: 'Updated',
    status: 'Timeout',
    taskStatuses: ['Finished', 'Timeout', 'Init'],
    arrayOrder: [0, 2, 1],
    context: 'string',
  },
  { type: 'Rollback', status: 'Suspended', taskStatuses: ['Finished', 'Suspended', 'Init'] },
  {
    type: 'Configure',
    status: 'Finished',
    arrayOrder: [2, 1, 0],
    taskTweaks: { 1: { output: 'restart ok: 3 instances' }, 2: { id: BIG_TASK_ID } },
  },
  { type: 'Upgrade', status: 'PreInit', description: 'Upgrade to 2.6.3' },
  { type: 'Modify', status: 'Executing', arrayOrder: [1, 2, 0] },
];

const DOCUMENTED_ENGINE_STATUSES = [
  'Available',
  'Creating',
  'CreateFailed',
  'Freezed',
  'Unavailable',
  'Deleting',
  'Deleted',
  'Upgrading',
  'Modifying',
  'DeleteFailed',
  'UpgradeFailed',
  'ModifyFailed',
] as const;
/** Filler statuses: every documented value plus one the docs do not list. */
const FILLER_STATUSES = [...DOCUMENTED_ENGINE_STATUSES, 'Hibernating'] as const;
const FILLER_TYPES = ['CSE', 'NACOS', 'MICROGATEWAY', 'CSE_Share'] as const;
const FILLER_COUNT = 23;

const NORMAL_TYPES = ['Configure', 'Upgrade', 'Modify', 'Updated'] as const;
const NORMAL_STATUSES = ['Finished', 'Finished', 'Error', 'Finished', 'Timeout', 'Finished'] as const;

export const SEED_ENGINE_IDS: SeedIndex['engines'] = {
  empty: demoId(1),
  single: demoId(2),
  onePage: demoId(3),
  onePagePlusOne: demoId(4),
  maxPage: demoId(5),
  big: demoId(6),
  drift: demoId(7),
  gone: demoId(8),
  other: otherId(1),
};

/** The i-th filler engine's id (1 to 23). No filler has a running job in the seed. */
export const fillerEngineId = (i: number): string => demoId(100 + i);

function engineDefs(): EngineDef[] {
  const ids = SEED_ENGINE_IDS;
  const named = (id: string, name: string, jobs: EngineDef['jobs'], extra: Partial<EngineDef> = {}): EngineDef => ({
    id,
    projectId: DEMO_PROJECT_ID,
    name,
    type: 'CSE',
    status: 'Available',
    state: 'live',
    jobs,
    ...extra,
  });
  const fillers: EngineDef[] = [];
  for (let i = 1; i <= FILLER_COUNT; i++) {
    fillers.push({
      id: fillerEngineId(i),
      projectId: DEMO_PROJECT_ID,
      name: `filler-${String(i).padStart(2, '0')}`,
      type: FILLER_TYPES[i % FILLER_TYPES.length] ?? 'CSE',
      status: FILLER_STATUSES[(i - 1) % FILLER_STATUSES.length] ?? 'Available',
      state: 'live',
      jobs: i % 6,
    });
  }
  return [
    named(ids.empty, 'empty-engine', 0),
    named(ids.single, 'single-job-engine', 1),
    named(ids.onePage, 'one-page-engine', 20),
    named(ids.onePagePlusOne, 'one-page-plus-one-engine', 21),
    named(ids.maxPage, 'max-page-engine', 100, { newestStatus: 'Init' }),
    named(ids.big, 'big-engine', 350, { newestStatus: 'Executing', tiedWithPrevious: [200] }),
    named(ids.drift, 'drift-engine', DRIFT_JOBS, { status: 'Upgrading' }),
    ...fillers,
    named(ids.gone, 'gone-engine', 0, { status: 'Deleted', state: 'gone' }),
    { ...named(ids.other, 'other-project-engine', 3), projectId: OTHER_PROJECT_ID },
    { ...named(otherId(2), 'other-project-nacos', 2, { type: 'NACOS', status: 'Creating' }), projectId: OTHER_PROJECT_ID },
  ];
}

type Flavor = Pick<SimEngineRecord, 'flavor' | 'version' | 'latestVersion' | 'specType' | 'authType' | 'payment'>;

const CSE_FLAVOR: Flavor = { flavor: 'cse.s1.small2', version: '2.4.0', latestVersion: '2.6.3', specType: 'CSE2', authType: 'RBAC', payment: '1' };

const FLAVORS: Readonly<Record<string, Flavor>> = {
  CSE: CSE_FLAVOR,
  CSE_Share: { flavor: 'cse.share', version: '1.0.0', latestVersion: '1.0.0', specType: 'CSE', authType: 'NONE', payment: '2' },
  NACOS: { flavor: 'cse.nacos2.c1.large.10', version: '2.1.0.1', latestVersion: '2.1.0.1', specType: 'Nacos2', authType: 'NONE', payment: '0' },
  MICROGATEWAY: { flavor: 'cse.mgw.small', version: '1.2.0', latestVersion: '1.3.0', specType: 'MicroGateway', authType: 'RBAC', payment: '1' },
};

function engineRecord(def: EngineDef, position: number): SimEngineRecord {
  const flavor = FLAVORS[def.type] ?? CSE_FLAVOR;
  return {
    id: def.id,
    name: def.name,
    description: `${def.name} (simulated)`,
    type: def.type,
    flavor: flavor.flavor,
    payment: flavor.payment,
    authType: flavor.authType,
    status: def.status,
    version: flavor.version,
    latestVersion: flavor.latestVersion,
    createUser: 'demo-user',
    // Earlier definitions are newer, so the engine list shows them in definition order.
    createTime: ENGINE_BASE_TIME - position * DAY_MS,
    enterpriseProjectId: '0',
    enterpriseProjectName: 'default',
    specType: flavor.specType,
    serviceLimit: 200,
    instanceLimit: 500,
  };
}

export interface SeedData {
  engines: SimEngine[];
  /** Per engine id, newest first. */
  jobs: Map<string, SimJob[]>;
  nextJobId: number;
  nextTaskId: number;
  latestStartTime: number;
}

export function buildSeed(): SeedData {
  const engines: SimEngine[] = [];
  const jobs = new Map<string, SimJob[]>();
  let nextJobId = FIRST_JOB_ID;
  let nextTaskId = FIRST_TASK_ID;
  let slot = 0;
  let latestStartTime = JOB_BASE_TIME;
  const takeTaskId = (): number => nextTaskId++;

  engineDefs().forEach((def, position) => {
    const record = engineRecord(def, position);
    engines.push({ projectId: def.projectId, state: def.state, record });
    if (def.state === 'gone') return;
    const drafts = typeof def.jobs === 'number' ? normalDrafts(def, nextJobId) : def.jobs;
    const oldestFirst: SimJob[] = [];
    drafts.forEach((draft, k) => {
      const tied = k > 0 && def.tiedWithPrevious?.includes(k) === true;
      const startTime = tied ? latestStartTime : JOB_BASE_TIME + slot++ * JOB_SPACING_MS;
      latestStartTime = startTime;
      const id = nextJobId++;
      oldestFirst.push(
        makeJob({
          ...draft,
          id,
          engineId: def.id,
          engineName: def.name,
          startTime,
          taskCount: typeof def.jobs === 'number' ? 1 + (id % 3) : 3,
          nextTaskId: takeTaskId,
        }),
      );
    });
    jobs.set(def.id, oldestFirst.reverse());
  });
  return { engines, jobs, nextJobId, nextTaskId, latestStartTime };
}

function normalDrafts(def: EngineDef, firstId: number): JobDraft[] {
  const count = def.jobs as number;
  const drafts: JobDraft[] = [];
  for (let k = 0; k < count; k++) {
    const id = firstId + k;
    const newest = k === count - 1;
    drafts.push({
      type: k === 0 ? 'Create' : (NORMAL_TYPES[id % NORMAL_TYPES.length] ?? 'Configure'),
      status: newest && def.newestStatus ? def.newestStatus : (NORMAL_STATUSES[id % NORMAL_STATUSES.length] ?? 'Finished'),
      description: k === 0 ? `Create ${def.name}` : '',
    });
  }
  return drafts;
}

function seedIndex(): SeedIndex {
  const jobCounts: Record<string, number> = {};
  for (const def of engineDefs()) {
    if (def.state === 'live') jobCounts[def.id] = typeof def.jobs === 'number' ? def.jobs : def.jobs.length;
  }
  // Frozen: a test that edits the index by mistake must not change what other tests expect.
  return Object.freeze({ engines: Object.freeze({ ...SEED_ENGINE_IDS }), jobCounts: Object.freeze(jobCounts) });
}

export const SEED: SeedIndex = seedIndex();
