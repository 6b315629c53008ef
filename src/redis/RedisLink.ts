import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger';
import { maskPassword } from '../config/loadConfig';
import type { RedisMetrics } from './redisMetrics';
import { LATE, settleWithin } from './deadline';
import { UNAVAILABLE, type Unavailable } from '../cache/secondLevel';

export { UNAVAILABLE, type Unavailable } from '../cache/secondLevel';

/** One Redis, or a Redis Cluster (REDIS_CLUSTER): what differs between them goes through RedisLink. */
export type RedisClient = Redis | Cluster;

export interface RedisLinkOptions {
  readonly url: string;
  readonly cluster?: boolean;
  /** REDIS_TLS_CA_FILE's certificates. */
  readonly tlsCa?: string;
  /** Bounds every command (`REDIS_TIMEOUT_MS`). */
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly metrics: RedisMetrics;
  /** Monotonic milliseconds; injected by tests. */
  readonly now?: () => number;
}

/**
 * After a failure Redis is not asked again for this long (unless it reports itself ready): a slow
 * Redis would otherwise add its timeout to every lookup. One command per period probes it.
 */
export const SUSPEND_MS = 1000;

const reconnectDelay = (attempt: number): number => Math.min(100 * attempt, 2000);

/**
 * The replica's one connection to Redis, and the rule that Redis is never a single point of
 * failure: every command is bounded by `timeoutMs` ({@link settleWithin}, which a stall of this
 * process does not trip), nothing queues while the connection is down, and a failure is an answer
 * — {@link UNAVAILABLE} — never an exception. State changes are logged once each and exported as
 * `gateway_redis_up`. On a cluster the same holds for every node; MOVED and ASK are followed.
 */
export class RedisLink {
  readonly client: RedisClient;
  private up = false;
  private everUp = false;
  private suspendedUntil = 0;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly options: RedisLinkOptions) {
    this.now = options.now ?? (() => performance.now());
    const bounds = {
      // A backstop: clears what a Redis that hangs leaves in the connection's queue.
      commandTimeout: Math.max(1000, options.timeoutMs * 10),
      connectTimeout: Math.max(1000, options.timeoutMs * 10),
      // Fail fast instead of holding the operation until the reconnection.
      maxRetriesPerRequest: 0,
      ...(options.tlsCa === undefined ? {} : { tls: { ca: options.tlsCa } }),
    } satisfies RedisOptions;
    this.client = options.cluster === true ? createCluster(options.url, bounds) : createRedis(options.url, bounds);
    this.client.on('ready', () => {
      this.suspendedUntil = 0;
      this.mark(true, undefined);
    });
    this.client.on('error', (error: Error) => this.mark(false, error.message));
    this.client.on('close', () => this.mark(false, 'connection closed'));
    options.metrics.up.set(0);
    options.logger.info(
      { redis: maskPassword(new URL(options.url)), cluster: options.cluster === true },
      'sharing state with other replicas through Redis',
    );
  }

  get isUp(): boolean {
    return this.up;
  }

  /** Runs one command; {@link UNAVAILABLE} when Redis is down, slow or refused it. `op`: the metric's label. */
  async run<T>(op: string, command: (client: RedisClient) => Promise<T>): Promise<T | Unavailable> {
    if (this.closed || this.now() < this.suspendedUntil || this.client.status !== 'ready') return UNAVAILABLE;
    // Suspended until now: this command is the probe, and the others wait for its verdict.
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
   * A second connection with the same options (for SUBSCRIBE mode). A cluster's copy starts from
   * every node known now: the URL's node may be the master that died. The caller closes it.
   */
  duplicate(): RedisClient {
    if (!(this.client instanceof Cluster)) return this.client.duplicate();
    const known = this.client.nodes('all').map((node) => ({ host: node.options.host, port: node.options.port }));
    return this.client.duplicate([...known, seedNode(new URL(this.options.url))]);
  }

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
    retryStrategy: reconnectDelay,
    lazyConnect: false,
  });
}

/** A Cluster seeded with the URL's node; its credentials and TLS apply to every node. */
function createCluster(url: string, bounds: RedisOptions): Cluster {
  const seed = new URL(url);
  const options: ClusterOptions = {
    enableOfflineQueue: false,
    // A closed connection and CLUSTERDOWN fail at once (maxRetriesPerRequest: 0's cluster form).
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
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
  return { host: seed.hostname.replace(/^\[|\]$/g, ''), port: seed.port === '' ? 6379 : Number(seed.port) };
}
