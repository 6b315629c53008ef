import { spawn, type ChildProcess } from 'node:child_process';

/**
 * One server of the benchmark in its own process (simulator, gateway or floor): CPU time and
 * RSS are read per process from /proc, so each measured server must have a process to itself.
 */
export interface Child {
  readonly name: string;
  readonly pid: number;
  /** The URL printed in the ready line. */
  readonly url: string;
  /** Asks over the IPC channel (children started with `ipc: true`). */
  ask<T>(message: Record<string, unknown>): Promise<T>;
  /** The last few kilobytes of the child's stdout and stderr, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface ChildSpec {
  name: string;
  entry: string;
  args?: string[];
  /** The child's whole environment: nothing of the benchmark's own is inherited but PATH. */
  env?: Record<string, string>;
  nodeOptions?: string[];
  /** The child prints its URL on stdout in a line this matches (group 1). */
  ready: RegExp;
  ipc?: boolean;
  startTimeoutMs?: number;
}

const OUTPUT_TAIL = 8 * 1024;
const live = new Set<ChildProcess>();

// A benchmark that stops abnormally (a crash, Ctrl-C, a test's timeout) must not leave servers
// running: their ports and CPU would skew whatever runs next on the machine.
const killAll = (): void => {
  for (const child of live) child.kill('SIGKILL');
};
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

export function startChild(spec: ChildSpec): Promise<Child> {
  const child = spawn(process.execPath, [...(spec.nodeOptions ?? []), spec.entry, ...(spec.args ?? [])], {
    env: { PATH: process.env.PATH ?? '', ...spec.env },
    stdio: spec.ipc === true ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  // Only a chunk's tail is decoded: a gateway at LOG_LEVEL=info writes megabytes a second, and
  // this process is also the load generator's.
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.subarray(-OUTPUT_TAIL).toString('utf8')).slice(-OUTPUT_TAIL);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));

  let nextId = 1;
  const pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  child.on('message', (reply: { id: number; value?: unknown; error?: string }) => {
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.error !== undefined) waiter?.reject(new Error(`${spec.name}: ${reply.error}`));
    else waiter?.resolve(reply.value);
  });

  return new Promise<Child>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${spec.name} did not start within ${spec.startTimeoutMs ?? 20_000} ms`)), spec.startTimeoutMs ?? 20_000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n--- ${spec.name} output ---\n${output}`));
    };
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(new Error(`${spec.name} exited (${signal ?? code}) before it was ready`));
    child.once('exit', onEarlyExit);
    const watch = (): void => {
      const url = spec.ready.exec(output)?.[1];
      if (url === undefined) return;
      clearTimeout(timer);
      child.stdout?.off('data', watch);
      child.off('exit', onEarlyExit);
      resolve({
        name: spec.name,
        pid: child.pid ?? -1,
        url,
        ask: <T>(message: Record<string, unknown>) =>
          new Promise<T>((resolveAsk, rejectAsk) => {
            if (!child.connected) {
              rejectAsk(new Error(`${spec.name} has no IPC channel`));
              return;
            }
            const id = nextId++;
            pending.set(id, { resolve: resolveAsk, reject: rejectAsk });
            child.send({ ...message, id });
          }),
        output: () => output,
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.kill('SIGTERM');
          await exited;
          clearTimeout(killer);
        },
      });
    };
    child.stdout?.on('data', watch);
  });
}
