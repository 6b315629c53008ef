import { parseArgs } from 'node:util';
import { paths } from '../src/upstream/paths';
import { DEMO_PROJECT_ID, DEMO_TOKEN, startSimulator, steadyLoadOptions, type Simulator } from '@cse-jobs-gateway/simulator';

/**
 * The simulator as the benchmark's child process, with its call counter reachable over the IPC
 * channel. (Its `/__sim/calls` endpoint sends every recorded call, megabytes after a run; the
 * benchmark only needs the number.) Its own process keeps its CPU out of the gateway's and the
 * floor's figures and out of the load generator's event loop.
 */

export type SimulatorRequest =
  | { id: number; op: 'count' }
  | { id: number; op: 'reset' }
  /** The running jobs (live mode): [engineId, jobId] pairs. */
  | { id: number; op: 'running' }
  /** Every call answered since the last reset: [route, engineId, answeredAt (epoch ms), token]. */
  | { id: number; op: 'answers' };
export interface SimulatorReply {
  id: number;
  value?: unknown;
  error?: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { latency: { type: 'string', default: '0' }, 'steady-load': { type: 'boolean', default: false } } });
  // --steady-load: the subscription benchmark's 500 running jobs, each changing every second.
  const simulator = await startSimulator({ latencyMs: Number(values.latency), live: values['steady-load'] ? steadyLoadOptions() : undefined });
  process.on('message', async (message: SimulatorRequest) => {
    const reply: SimulatorReply = { id: message.id };
    if (message.op === 'count') reply.value = simulator.callCount();
    else if (message.op === 'reset') simulator.resetCalls();
    else if (message.op === 'running') reply.value = await runningJobs(simulator);
    else if (message.op === 'answers') reply.value = simulator.calls.map((call) => [call.route, call.engineId ?? '', call.answeredAt ?? 0, call.headers['x-auth-token'] ?? '']);
    else reply.error = `unknown op ${String((message as { op?: unknown }).op)}`;
    process.send?.(reply);
  });
  process.stdout.write(`Simulator ready at ${simulator.url}\n`);
  // The benchmark is the only client of these controls: when it goes, so does the simulator.
  process.once('disconnect', () => void simulator.close().then(() => process.exit(0)));
  process.once('SIGTERM', () => void simulator.close().then(() => process.exit(0)));
}

/** The running jobs of the live engines, read through the simulator's own API (as a client would). */
async function runningJobs(simulator: Simulator): Promise<Array<[string, string]>> {
  const running: Array<[string, string]> = [];
  for (const engineId of steadyLoadOptions().engineIds) {
    for (let page = 1; ; page += 1) {
      const response = await fetch(`${simulator.url}${paths.listJobs(DEMO_PROJECT_ID, engineId)}?offset=${page}&limit=100`, {
        headers: { 'x-auth-token': DEMO_TOKEN },
      });
      const body = (await response.json()) as { total: number; data: Array<{ id: number; status: string }> };
      for (const job of body.data) if (!['Finished', 'Error', 'Timeout'].includes(job.status)) running.push([engineId, String(job.id)]);
      if (page * 100 >= body.total || body.data.length === 0) break;
    }
  }
  return running;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
