import type { SimPhase, SimTask } from './model';

/**
 * Job details in the SDK's phase (TaskSteps) shape. The same task objects as the flat list are
 * grouped, keeping their array order inside each phase, so a gateway that flattens and sorts
 * them by taskOrder gets exactly what the list endpoint sent.
 */

const PHASES = [
  { taskName: 'PreparePhase', description: 'Prepare resources' },
  { taskName: 'ExecutePhase', description: 'Apply changes' },
] as const;

export function toPhases(tasks: readonly SimTask[]): SimPhase[] {
  const orders = [...new Set(tasks.map((task) => task.taskOrder ?? 0))].sort((a, b) => a - b);
  // The first half of the execution order is the first phase; a phase with no task is left out.
  const split = orders[Math.ceil(orders.length / 2)] ?? Number.POSITIVE_INFINITY;
  const groups = [tasks.filter((task) => (task.taskOrder ?? 0) < split), tasks.filter((task) => (task.taskOrder ?? 0) >= split)];
  const phases: SimPhase[] = [];
  groups.forEach((group, index) => {
    const meta = PHASES[index];
    if (group.length === 0 || !meta) return;
    phases.push(phase(meta.taskName, meta.description, group));
  });
  return phases;
}

function phase(taskName: string, description: string, tasks: SimTask[]): SimPhase {
  const sorted = [...tasks].sort((a, b) => (a.taskOrder ?? 0) - (b.taskOrder ?? 0));
  const starts = tasks.map((task) => task.startTime ?? 0).filter((time) => time > 0);
  const ends = tasks.map((task) => task.endTime ?? 0);
  const startTime = starts.length > 0 ? Math.min(...starts) : 0;
  // A phase has ended only when each of its tasks has.
  const endTime = ends.every((time) => time > 0) ? Math.max(...ends) : 0;
  return {
    taskName,
    taskNames: sorted.map((task) => task.taskName ?? ''),
    status: phaseStatus(sorted.map((task) => task.status ?? '')),
    startTime,
    endTime,
    taskExecutorBrief: { duration: endTime > 0 && startTime > 0 ? endTime - startTime : 0, description },
    tasks,
  };
}

/** A phase shows its first task (in execution order) that has not finished, or Finished. */
function phaseStatus(statuses: string[]): string {
  return statuses.find((status) => status !== 'Finished') ?? 'Finished';
}
