import { parseArgs } from 'node:util';
import { startSimulator } from '../src/simulator';

/**
 * The simulator as the benchmark's child process, with its call counter reachable over the IPC
 * channel. (Its `/__sim/calls` endpoint sends every recorded call, megabytes after a run; the
 * benchmark only needs the number.) Its own process keeps its CPU out of the gateway's and the
 * floor's figures and out of the load generator's event loop.
 */

export type SimulatorRequest = { id: number; op: 'count' } | { id: number; op: 'reset' };
export interface SimulatorReply {
  id: number;
  value?: number;
  error?: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { latency: { type: 'string', default: '0' } } });
  const simulator = await startSimulator({ latencyMs: Number(values.latency) });
  process.on('message', (message: SimulatorRequest) => {
    const reply: SimulatorReply = { id: message.id };
    if (message.op === 'count') reply.value = simulator.callCount();
    else if (message.op === 'reset') simulator.resetCalls();
    else reply.error = `unknown op ${String((message as { op?: unknown }).op)}`;
    process.send?.(reply);
  });
  process.stdout.write(`Simulator ready at ${simulator.url}\n`);
  // The benchmark is the only client of these controls: when it goes, so does the simulator.
  process.once('disconnect', () => void simulator.close().then(() => process.exit(0)));
  process.once('SIGTERM', () => void simulator.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
