import { SEED, type Simulator } from '../src';
import { api, call, parseExact, withQuery } from './support';

/**
 * What every job must look like at every moment of the lifecycle, and how to see a job the way a
 * gateway does: once in the list, once in the details (phases for the drift engine).
 */

export const TERMINAL = ['Finished', 'Error', 'Timeout'];
const NOT_STARTED = ['PreInit', 'Init'];

export const byTaskOrder = (a: any, b: any): number => a.taskOrder - b.taskOrder;

/** Task statuses in taskOrder, e.g. ['Finished', 'Executing', 'Init']. */
export function taskStatuses(job: any): string[] {
  return [...job.tasks].sort(byTaskOrder).map((task: any) => task.status);
}

export function expectJobInvariants(job: any): void {
  const { status } = job;
  expect(job.scheduling).toBe(status === 'Executing' ? 1 : 0);
  if (TERMINAL.includes(status)) expect(job.endTime).toBeGreaterThanOrEqual(job.startTime);
  else expect(job.endTime ?? 0).toBe(0);

  const statuses = taskStatuses(job);
  const pattern = statuses.map((s) => (s === 'Finished' ? 'F' : NOT_STARTED.includes(s) ? 'n' : s === status ? 'C' : '?')).join('');
  // F: finished, C: the task the job is at (Executing, or its Error / Timeout), n: not started.
  switch (status) {
    case 'PreInit':
    case 'Init':
      expect(statuses.every((s) => s === status)).toBe(true);
      break;
    case 'Executing':
    case 'Error':
    case 'Timeout':
      expect(pattern).toMatch(/^F*Cn*$/);
      break;
    case 'Finished':
      expect(pattern).toMatch(/^F*$/);
      break;
    default:
      throw new Error(`unexpected job status ${status}`);
  }

  const tasks = [...job.tasks].sort(byTaskOrder);
  for (const task of tasks) {
    expect(task.jobId).toBe(job.id);
    if (NOT_STARTED.includes(task.status)) {
      expect([task.startTime, task.endTime]).toEqual([0, 0]);
    } else if (task.status === 'Executing') {
      expect(task.startTime).toBeGreaterThan(0);
      expect(task.endTime).toBe(0);
      expect(task.updateTime).toBeGreaterThanOrEqual(task.startTime);
    } else {
      expect(task.startTime).toBeGreaterThan(0);
      expect(task.endTime).toBeGreaterThanOrEqual(task.startTime);
      expect(task.updateTime).toBeGreaterThanOrEqual(task.endTime);
      expect(task.taskExecutorBrief.duration).toBe(task.endTime - task.startTime);
      if (TERMINAL.includes(status)) expect(job.endTime).toBeGreaterThanOrEqual(task.endTime);
    }
  }
  // Tasks run one after the other, in taskOrder.
  const started = tasks.filter((task) => task.startTime > 0);
  for (let i = 1; i < started.length; i++) expect(started[i].startTime).toBeGreaterThanOrEqual(started[i - 1].endTime);
}

export interface Observation {
  listed: any;
  details: any;
  /** The details' tasks, flattened from phases where the engine answers in phases. */
  detailTasks: any[];
}

/** The job as the list shows it (found page by page) and as its details show it. */
export async function observe(sim: Simulator, engineId: string, jobId: number | string): Promise<Observation> {
  let listed: any;
  for (let page = 1; listed === undefined; page++) {
    const res = await call(sim, withQuery(api.jobs(engineId), { offset: page, limit: 100 }));
    expect(res.status).toBe(200);
    const body = parseExact(res.text);
    listed = body.data.find((job: any) => String(job.id) === String(jobId));
    if (body.data.length < 100 && listed === undefined) throw new Error(`job ${jobId} is not in the list of ${engineId}`);
  }
  const res = await call(sim, api.job(engineId, jobId));
  expect(res.status).toBe(200);
  const details = parseExact(res.text);
  const phased = engineId === SEED.engines.drift;
  const detailTasks = phased ? details.tasks.flatMap((phase: any) => phase.tasks) : details.tasks;
  return { listed, details, detailTasks };
}

/** List and details agree on everything, phases aside; the job keeps every invariant. */
export async function observeConsistent(sim: Simulator, engineId: string, jobId: number | string): Promise<any> {
  const { listed, details, detailTasks } = await observe(sim, engineId, jobId);
  const { tasks: _listTasks, ...listFields } = listed;
  const { tasks: _detailTasks, ...detailFields } = details;
  expect(detailFields).toEqual(listFields);
  expect([...detailTasks].sort(byTaskOrder)).toEqual([...listed.tasks].sort(byTaskOrder));
  if (engineId === SEED.engines.drift) {
    for (const phase of details.tasks) {
      const open = [...phase.tasks].sort(byTaskOrder).find((task: any) => task.status !== 'Finished');
      expect(phase.status).toBe(open ? open.status : 'Finished');
      expect(phase.endTime > 0).toBe(phase.tasks.every((task: any) => task.endTime > 0));
    }
  } else {
    expect(details).toEqual(listed);
  }
  expectJobInvariants(listed);
  return listed;
}
