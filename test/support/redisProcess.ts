/**
 * A throwaway redis-server process (Debian's, from PATH) on a free 127.0.0.1 port: for the Redis
 * tests and the replicas benchmark alike, so this module uses nothing of jest's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** The redis-server on PATH, or `undefined` when there is none. */
export function redisServerPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** A port free on 127.0.0.1 now (redis-server does not take `--port 0`). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Whether it runs as a Redis Cluster (of this one node, which serves every slot). */
  readonly cluster: boolean;
  /** Stops the server (SIGKILL: as abrupt as a crash). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty (a cluster again serving every slot). */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: connections stay open and nothing answers (a hung Redis, not a dead one). */
  pause(): void;
  resume(): void;
}

export interface RedisServerOptions {
  /**
   * A single-node Redis Cluster (`--cluster-enabled yes`) that serves all 16384 slots: it still
   * refuses a command or script whose keys are in different slots (CROSSSLOT), as a cluster of
   * many nodes does, so it proves the keys' hash tags; it cannot show a failover or a resharding.
   */
  readonly cluster?: boolean;
}

/** A throwaway redis-server on 127.0.0.1, no persistence. `kill` it in teardown. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const cluster = options.cluster === true;
  let child: ChildProcess | undefined;
  /** The cluster's node configuration file lives here, one directory per start, removed at kill. */
  let configDir: string | undefined;
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    cluster,
    async start() {
      if (!cluster) {
        child = await launch(port, []);
        return;
      }
      configDir = mkdtempSync(join(tmpdir(), 'gw-redis-cluster-'));
      child = await launch(port, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(configDir, 'nodes.conf'),
        '--cluster-node-timeout',
        '5000',
        // A node that has met no other does not know its own address, and CLUSTER SLOTS would
        // name it as "": clients could not find the node that serves the slots.
        '--cluster-announce-ip',
        '127.0.0.1',
      ]);
      try {
        await assignAllSlots(port);
      } catch (error) {
        await server.kill();
        throw error;
      }
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async kill() {
      const running = child;
      child = undefined;
      if (running !== undefined && running.exitCode === null) {
        const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
        running.kill('SIGCONT');
        running.kill('SIGKILL');
        await exited;
      }
      if (configDir !== undefined) rmSync(configDir, { recursive: true, force: true });
      configDir = undefined;
    },
  };
  await server.start();
  return server;
}

/** Gives the one node every slot and waits until the cluster says it is ok (fails past 10 s). */
async function assignAllSlots(port: number): Promise<void> {
  const admin = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    const end = Date.now() + 10_000;
    for (;;) {
      const info = String(await admin.call('CLUSTER', 'INFO'));
      if (info.includes('cluster_state:ok')) return;
      if (Date.now() > end) throw new Error(`the cluster on port ${port} never became ok: ${info}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    admin.disconnect();
  }
}

function launch(port: number, extra: readonly string[]): Promise<ChildProcess> {
  const child = spawn(redisServerPath() ?? 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start on port ${port}: ${output}`));
    }, 5000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += String(chunk);
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) before it was ready: ${output}`));
    });
  });
}
