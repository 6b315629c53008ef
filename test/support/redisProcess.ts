/**
 * A throwaway redis-server process (Debian's, from PATH) on a free 127.0.0.1 port: for the Redis
 * tests and the replicas benchmark alike, so this module uses nothing of jest's.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

/** The redis-server on PATH, or `undefined` when there is none. */
export function redisServerPath(): string | undefined {
  return onPath('redis-server');
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

/** `count` ports free on 127.0.0.1 now, no two the same (for processes started at once). */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
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
   * many nodes does, so it proves the keys' hash tags; for a failover, see {@link startRedisCluster}.
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

/** The executable `name` on PATH, or `undefined` when there is none. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** One redis-server of a {@link RedisCluster}. */
export interface RedisClusterNode {
  readonly port: number;
  /** Whether it was SIGKILLed. */
  readonly dead: boolean;
  /** A connection to this node alone (TLS with the test's CA when the cluster runs TLS); the caller disconnects it. */
  connect(): Redis;
  /** SIGKILL: as abrupt as a crash; the node is not started again. */
  kill(): Promise<void>;
}

export interface RedisCluster {
  /** A seed node's URL (`rediss://` over TLS). */
  readonly url: string;
  readonly cluster: true;
  /** Over TLS: the PEM file of the CA that signed every node's certificate (the clients must trust it). */
  readonly caFile: string | undefined;
  readonly nodes: readonly RedisClusterNode[];
  /** The URL of `node` as a seed (`rediss://` over TLS). */
  urlOf(node: RedisClusterNode): string;
  /** The node that serves `key`'s slot now (asked of a node that is alive). */
  masterOf(key: string): Promise<RedisClusterNode>;
  /** Resolves once every live node says `cluster_state:ok` and no slot is served by a dead node; fails past `ms`. */
  untilHealthy(ms?: number): Promise<void>;
  /** Kills every node and removes their files. */
  kill(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Serve TLS only (`tls-port`, `port 0`), the cluster bus and replication included, with a CA and certificate made by openssl. */
  readonly tls?: boolean;
  /** `cluster-node-timeout`: how long a master is unreachable before its replica takes over. */
  readonly nodeTimeoutMs?: number;
}

/** Runs `command` on a connection of its own to one node, closed afterwards. */
export async function onNode<T>(node: RedisClusterNode, command: (connection: Redis) => Promise<T>): Promise<T> {
  const connection = node.connect();
  try {
    await connection.connect();
    return await command(connection);
  } finally {
    connection.disconnect();
  }
}

/**
 * Six redis-server processes on free ports, joined by `redis-cli --cluster create
 * --cluster-replicas 1`: three masters sharing the 16384 slots, each with a replica that takes
 * over when its master dies. Resolves once the cluster is ok. `kill` it in teardown.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-redis-cluster6-'));
  const children: Array<ChildProcess | undefined> = [];
  const tls = options.tls === true ? makeCertificates(dir) : undefined;
  const cleanup = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The bus port would be port + 10000, past 65535 for a high ephemeral port: take a free one.
    const ports = await distinctFreePorts(12);
    // The six start at once: each waits for its own "Ready to accept connections".
    const launched = await Promise.allSettled(
      [0, 1, 2, 3, 4, 5].map((i) => {
        const [port, busPort] = [ports[2 * i]!, ports[2 * i + 1]!];
        const args = [
          '--cluster-enabled', 'yes',
          '--cluster-config-file', join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000),
          '--cluster-port', String(busPort),
          '--cluster-announce-ip', '127.0.0.1',
          // A replica syncs at once (not after the default 5 s wait for others), and may take over
          // however long ago it last heard its master: a test kills masters seconds after the start.
          '--repl-diskless-sync-delay', '0',
          '--cluster-replica-validity-factor', '0',
          '--dir', dir,
          ...(tls === undefined
            ? []
            : ['--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no', '--tls-cluster', 'yes', '--tls-replication', 'yes']),
        ];
        return launch(tls === undefined ? port : 0, args);
      }),
    );
    const started = launched.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    children.push(...started);
    const failed = launched.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const nodes: RedisClusterNode[] = started.map((child, i) => {
      const port = ports[2 * i]!;
      let dead = false;
      return {
        port,
        get dead() {
          return dead;
        },
        connect: () => {
          const connection = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, ...(tls === undefined ? {} : { tls: { ca: readFileSync(tls.ca) } }) });
          connection.on('error', () => undefined);
          return connection;
        },
        async kill() {
          dead = true;
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGKILL');
          await exited;
        },
      };
    });
    await promisify(execFile)(
      onPath('redis-cli') ?? 'redis-cli',
      [...(tls === undefined ? [] : ['--tls', '--cacert', tls.ca]), '--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '1', '--cluster-yes'],
      { timeout: 20_000 },
    );
    const alive = () => nodes.filter((node) => !node.dead);
    /** The master of each slot range, by CLUSTER SLOTS of a live node. */
    const owner = async (slot: number): Promise<number> => {
      const slots = (await onNode(alive()[0]!, (connection) => connection.call('CLUSTER', 'SLOTS'))) as Array<[number, number, [string, number]]>;
      const range = slots.find(([from, to]) => from <= slot && slot <= to);
      if (range === undefined) throw new Error(`no node serves slot ${slot}`);
      return range[2][1];
    };
    const cluster: RedisCluster = {
      url: `${tls === undefined ? 'redis' : 'rediss'}://127.0.0.1:${nodes[0]!.port}`,
      urlOf: (node) => `${tls === undefined ? 'redis' : 'rediss'}://127.0.0.1:${node.port}`,
      cluster: true,
      caFile: tls?.ca,
      nodes,
      async masterOf(key) {
        const slot = Number(await onNode(alive()[0]!, (connection) => connection.call('CLUSTER', 'KEYSLOT', key)));
        const port = await owner(slot);
        return nodes.find((node) => node.port === port)!;
      },
      async untilHealthy(ms = 20_000) {
        const end = Date.now() + ms;
        for (;;) {
          const states = await Promise.all(alive().map((node) => onNode(node, (connection) => connection.call('CLUSTER', 'INFO')).then(String, () => 'unreachable')));
          const slots = (await onNode(alive()[0]!, (connection) => connection.call('CLUSTER', 'SLOTS')).catch(() => [])) as Array<[number, number, [string, number]]>;
          const served = slots.every(([, , [, port]]) => nodes.some((node) => node.port === port && !node.dead));
          // Every replica in sync: else its master's death would lose what it had not copied yet.
          const links = await Promise.all(alive().map((node) => onNode(node, (connection) => connection.info('replication')).catch(() => 'unreachable')));
          const synced = links.every((info) => info.includes('role:master') || info.includes('master_link_status:up'));
          if (states.every((state) => state.includes('cluster_state:ok')) && slots.length > 0 && served && synced) return;
          if (Date.now() > end) throw new Error(`the cluster did not become healthy within ${ms} ms: ${states.map((state) => /cluster_state:\w+/.exec(state)?.[0] ?? state).join(', ')}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
      kill: cleanup,
    };
    await cluster.untilHealthy();
    return cluster;
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** A CA, and a certificate for 127.0.0.1 it signed, made by openssl in `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const file = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync(onPath('openssl') ?? 'openssl', args, { cwd: dir, stdio: 'pipe' });
  // P-256 keys: made at once, where each RSA key costs openssl a noticeable stretch of CPU.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  openssl(['req', '-x509', ...newKey, '-nodes', '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '1', '-subj', '/CN=gateway test CA']);
  openssl(['req', ...newKey, '-nodes', '-keyout', file('redis.key'), '-out', file('redis.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(file('redis.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', file('redis.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('redis.crt'), '-days', '1', '-extfile', file('redis.ext')]);
  return { ca: file('ca.crt'), cert: file('redis.crt'), key: file('redis.key') };
}
