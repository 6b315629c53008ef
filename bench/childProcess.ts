import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  /** The last few kilobytes of the child's stdout and stderr, read when asked, for failure messages. */
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
/** A child's output file is emptied past this: only its tail is ever read. */
const OUTPUT_FILE_MAX = 32 * 1024 * 1024;
const live = new Set<ChildProcess>();
let outputDir: string | undefined;
let outputFiles = 0;

// A benchmark that stops abnormally (a crash, Ctrl-C, a test's timeout) must not leave servers
// running: their ports and CPU would skew whatever runs next on the machine.
const killAll = (): void => {
  for (const child of live) child.kill('SIGKILL');
  if (outputDir !== undefined) rmSync(outputDir, { recursive: true, force: true });
};
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

export function startChild(spec: ChildSpec): Promise<Child> {
  // stdout and stderr go to a file, as a container's log driver takes them: a gateway at
  // LOG_LEVEL=info writes megabytes a second, which read through a pipe would be work for this
  // process (the load generator's, on the same cores) and back-pressure on the child.
  outputDir ??= mkdtempSync(join(tmpdir(), 'bench-output-'));
  const file = join(outputDir, `${(outputFiles += 1)}.log`);
  // Appending: after a truncation the child's next line lands at the start, not past a hole.
  const fd = openSync(file, 'a');
  const child = spawn(process.execPath, [...(spec.nodeOptions ?? []), spec.entry, ...(spec.args ?? [])], {
    env: { PATH: process.env.PATH ?? '', ...spec.env },
    stdio: spec.ipc === true ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd],
  });
  closeSync(fd);
  live.add(child);
  const output = (): string => {
    const reader = openSync(file, 'r');
    try {
      const size = statSync(file).size;
      const tail = Buffer.alloc(Math.min(size, OUTPUT_TAIL));
      const read = readSync(reader, tail, 0, tail.length, size - tail.length);
      return tail.subarray(0, read).toString('utf8');
    } finally {
      closeSync(reader);
    }
  };
  const bound = setInterval(() => {
    if (statSync(file).size > OUTPUT_FILE_MAX) truncateSync(file, 0);
  }, 1000).unref();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    live.delete(child);
    clearInterval(bound);
  });

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
      clearInterval(poll);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n--- ${spec.name} output ---\n${output()}`));
    };
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(new Error(`${spec.name} exited (${signal ?? code}) before it was ready`));
    child.once('exit', onEarlyExit);
    const watch = (): void => {
      const url = spec.ready.exec(output())?.[1];
      if (url === undefined) return;
      clearTimeout(timer);
      clearInterval(poll);
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
        output,
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.kill('SIGTERM');
          await exited;
          clearTimeout(killer);
        },
      });
    };
    const poll = setInterval(watch, 20);
  });
}
