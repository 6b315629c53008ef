import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger';
import { maskPassword } from '../config/loadConfig';
import type { RedisMetrics } from './redisMetrics';

import { LATE, settleWithin } from './deadline';
import { UNAVAILABLE, type Unavailable } from '../cache/secondLevel';

export { UNAVAILABLE, type Unavailable } from '../cache/secondLevel';

/**
 * The replica's connection: one Redis, or a Redis Cluster (REDIS_CLUSTER). Commands, scripts
 * (`defineCommand`) and classic pub/sub look the same on both; what differs (`duplicate`, the
 * constructor's options) goes through RedisLink.
 */
export type RedisClient = Redis | Cluster;

export interface RedisLinkOptions {
  /** One Redis, or (with `cluster`) one seed node of a Redis Cluster: the others are discovered. */
  readonly url: string;
  /** REDIS_CLUSTER: `url` names a node of a Redis Cluster (its database must be 0 or absent). */
  readonly cluster?: boolean;
  /** REDIS_TLS_CA_FILE's certificates: a `rediss://` node's certificate must chain to one of them. */
  readonly tlsCa?: string;
  /** Bounds every command (`REDIS_TIMEOUT_MS`). */
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly metrics: RedisMetrics;
  /** Monotonic milliseconds; injected by tests. */
  readonly now?: () => number;
}

/**
 * After a command fails, Redis is not asked again for this long (unless the connection reports
 * itself ready sooner): a Redis that is slow, not down, would otherwise add its whole timeout to
 * every operation's every lookup. One command per this time probes whether it is back.
 */
export const SUSPEND_MS = 1000;

/** Reconnecting never stops, and never waits more than 2 s between attempts. */
const reconnectDelay = (attempt: number): number => Math.min(100 * attempt, 2000);

/**
 * The replica's one connection to Redis, and the rule that Redis is never a single point of
 * failure: every command is bounded by `timeoutMs` (by {@link settleWithin}, which a stall of this
 * process does not trip: ioredis's own `commandTimeout` would, so it is only a backstop here), nothing queues while
 * the connection is down (`enableOfflineQueue: false`), and a failure is an answer —
 * {@link UNAVAILABLE} — never an exception, so every caller has a local way on.
 *
 * State changes (up → down → up) are logged once each and exported as `gateway_redis_up`; each
 * failed command counts in `gateway_redis_errors_total{op}`. ioredis reconnects by itself, and
 * sharing resumes with the first command after it does.
 *
 * On a Redis Cluster the same holds for every node: the bounds go to each node's connection
 * (`redisOptions`), the cluster queues nothing while it or the node a command is for is not ready,
 * a command on a closed connection or refused with CLUSTERDOWN fails at once instead of being
 * retried after a delay, and the cluster reconnects from its seed node forever
 * (`clusterRetryStrategy`). MOVED and ASK redirections are still followed: they are how a cluster
 * answers while its slots move, and the bound covers a command with its redirections.
 */
export class RedisLink {
  readonly client: RedisClient;
  private up = false;
  /** Set once the link was up: the first connection failing is said, not "lost". */
  private everUp = false;
  private suspendedUntil = 0;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly options: RedisLinkOptions) {
    this.now = options.now ?? (() => performance.now());
    // Bounds of every connection, the cluster's to each of its nodes included.
    const bounds = {
      // A backstop only: `run` bounds each command by timeoutMs itself (see settleWithin). This
      // one clears what a Redis that hangs leaves in the connection's queue.
      commandTimeout: Math.max(1000, options.timeoutMs * 10),
      connectTimeout: Math.max(1000, options.timeoutMs * 10),
      // Fail fast instead of queueing: a command issued while disconnected would otherwise wait
      // for the reconnection, holding the operation that asked.
      maxRetriesPerRequest: 0,
      // rediss:// alone trusts Node's roots; with REDIS_TLS_CA_FILE, those certificates instead.
      ...(options.tlsCa === undefined ? {} : { tls: { ca: options.tlsCa } }),
    } satisfies RedisOptions;
    this.client = options.cluster === true ? createCluster(options.url, bounds) : createRedis(options.url, bounds);
    this.client.on('ready', () => {
      this.suspendedUntil = 0;
      this.mark(true, undefined);
    });
    // Without a listener ioredis prints every connection error; the state change is what matters.
    this.client.on('error', (error: Error) => this.mark(false, error.message));
    this.client.on('close', () => this.mark(false, 'connection closed'));
    options.metrics.up.set(0);
    options.logger.info(
      { redis: maskPassword(new URL(options.url)), cluster: options.cluster === true },
      'sharing state with other replicas through Redis',
    );
  }

  /** Whether the last thing heard from Redis was good. */
  get isUp(): boolean {
    return this.up;
  }

  /**
   * Runs one command (or pipeline); {@link UNAVAILABLE} when Redis is down, slow or refused it.
   * `op` names the command family in the error metric (a closed set, chosen by the callers).
   */
  async run<T>(op: string, command: (client: RedisClient) => Promise<T>): Promise<T | Unavailable> {
    if (this.closed || this.now() < this.suspendedUntil || this.client.status !== 'ready') return UNAVAILABLE;
    // Suspended until now: this command is the probe, and the others wait for its verdict (a
    // Redis still slow would otherwise cost every operation in flight its timeout at once).
    if (this.suspendedUntil !== 0) this.suspendedUntil = this.now() + SUSPEND_MS;
    try {
      const value = await settleWithin(command(this.client), this.options.timeoutMs);
      if (value === LATE) throw new Error(`Redis did not answer within ${this.options.timeoutMs} ms`);
      this.suspendedUntil = 0;
      if (!this.up) this.mark(true, undefined);
      return value;
    } catch (error) {
      this.options.metrics.errors.inc({ op });
      this.suspendedUntil = this.now() + SUSPEND_MS;
      this.mark(false, error instanceof Error ? error.message : String(error));
      return UNAVAILABLE;
    }
  }

  /**
   * A second connection to the same Redis or cluster, with the same options and bounds (for a
   * connection in SUBSCRIBE mode, which can run nothing else). On a cluster, classic pub/sub is
   * broadcast to every node: the copy subscribes through any one of them and follows the cluster
   * when that node leaves. The copy starts from every node the cluster knows now, not from the
   * URL's node alone: that node may be the master that died, and a copy seeded with it alone would
   * never connect. The caller closes it.
   */
  duplicate(): RedisClient {
    if (!(this.client instanceof Cluster)) return this.client.duplicate();
    const known = this.client.nodes('all').map((node) => ({ host: node.options.host, port: node.options.port }));
    return this.client.duplicate([...known, seedNode(new URL(this.options.url))]);
  }

  /** Quits the connection (bounded: a Redis that does not answer is disconnected). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await settleWithin(this.client.quit().catch(() => undefined), Math.max(200, this.options.timeoutMs * 2));
    this.client.disconnect();
  }

  private mark(up: boolean, reason: string | undefined): void {
    if (up === this.up || this.closed) return;
    this.up = up;
    this.options.metrics.up.set(up ? 1 : 0);
    if (up) {
      this.options.logger.info(this.everUp ? 'Redis reachable again: sharing with other replicas resumes' : 'Redis connected');
      this.everUp = true;
    } else if (this.everUp) {
      this.options.logger.warn({ reason }, 'Redis unavailable: this replica goes on with its local caches, coalescing and APQ registry');
    }
  }
}

function createRedis(url: string, bounds: RedisOptions): Redis {
  return new Redis(url, {
    ...bounds,
    enableOfflineQueue: false,
    // Reconnect forever, at most every 2 s: Redis coming back must need nobody's help.
    retryStrategy: reconnectDelay,
    lazyConnect: false,
  });
}

/**
 * A Cluster seeded with the URL's node. The URL's credentials and TLS (`rediss://`) apply to
 * every node; loadConfig has refused a database other than 0 and a query string (a cluster has
 * one database, and the options a query would carry are not passed on).
 */
function createCluster(url: string, bounds: RedisOptions): Cluster {
  const seed = new URL(url);
  const options: ClusterOptions = {
    // Nothing waits for the cluster: while it (or the node of a command) is not ready, fail.
    enableOfflineQueue: false,
    // A closed connection and CLUSTERDOWN fail the command at once, instead of retrying it after
    // a delay the command's own timeout would mostly use up (maxRetriesPerRequest: 0's cluster form).
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    // When no node answers, start again from the seed: forever, at most every 2 s.
    clusterRetryStrategy: reconnectDelay,
    lazyConnect: false,
    redisOptions: {
      ...bounds,
      ...(seed.username === '' && seed.password === ''
        ? {}
        : { username: decodeURIComponent(seed.username), password: decodeURIComponent(seed.password) }),
      ...(seed.protocol === 'rediss:' ? { tls: bounds.tls ?? {} } : {}),
    },
  };
  return new Cluster([seedNode(seed)], options);
}

function seedNode(seed: URL): { host: string; port: number } {
  // WHATWG URL keeps an IPv6 host in brackets; a port left out is Redis's default.
  return { host: seed.hostname.replace(/^\[|\]$/g, ''), port: seed.port === '' ? 6379 : Number(seed.port) };
}
