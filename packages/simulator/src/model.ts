import type { CseEngine, CseJob, CseTask, CseTaskPhase } from './wire';

/**
 * The simulator's stored records: the upstream's shapes, except that an integer id that would not
 * fit a double is a bigint, so it reaches the wire as the exact JSON integer the upstream sends.
 */

export type WireInteger = number | bigint;

export type SimTask = Omit<CseTask, 'id' | 'jobId'> & { id: WireInteger; jobId: WireInteger };

export type SimJob = Omit<CseJob, 'id' | 'engineId' | 'startTime' | 'tasks'> & {
  id: number;
  engineId: string;
  startTime: number;
  tasks: SimTask[];
};

export type SimPhase = Omit<CseTaskPhase, 'tasks'> & { tasks: SimTask[] };

/** Engine fields as stored; `latestJobId` is derived from the jobs whenever it is read. */
export type SimEngineRecord = Omit<CseEngine, 'latestJobId' | 'createTime'> & {
  createTime: number;
  serviceLimit: number;
  instanceLimit: number;
};

export interface SimEngine {
  projectId: string;
  /** A gone engine is deleted upstream but still known: it answers SVCSTG.00501125, never 116. */
  state: 'live' | 'gone';
  record: SimEngineRecord;
}

/** Wire integers as the gateway's parser would hand them over: numbers if exact, else digits. */
export function toCseInteger(value: WireInteger): number | string {
  if (typeof value === 'number') return value;
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : value.toString();
}

export function fromCseInteger(value: number | string, what: string): WireInteger {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`${what} must be an exact integer, got ${value}`);
    return value;
  }
  if (!/^\d+$/.test(value)) throw new TypeError(`${what} must be digits, got "${value}"`);
  const big = BigInt(value);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

export function toCseJob(job: SimJob): CseJob {
  return { ...job, tasks: job.tasks.map(toCseTask) };
}

function toCseTask(task: SimTask): CseTask {
  return {
    ...task,
    id: toCseInteger(task.id),
    jobId: toCseInteger(task.jobId),
    taskExecutorBrief: task.taskExecutorBrief ? { ...task.taskExecutorBrief } : task.taskExecutorBrief,
  };
}
