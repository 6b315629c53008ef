import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { UNAVAILABLE } from '../cache/secondLevel';
import type { EncryptionKeys } from '../config/encryptionKeys';
import { maskCredentials } from '../config/loadConfig';
import type { Logger } from '../observability/logger';
import { LATE, settleWithin } from './deadline';
import { redisKeys, type RedisKeys } from './redisKeys';
import type { RedisMetrics } from './redisMetrics';
import { unexpired, valueCipherOf, withExpiry, type ValueCipher } from './valueCipher';

/** What differs between one Redis and a Cluster (REDIS_CLUSTER) goes through RedisLink. */
export type RedisClient = Redis | Cluster;

export type Script = (op: string, keys: readonly string[], args: ReadonlyArray<string | number>) => Promise<unknown>;

export interface RedisLinkOptions {
  readonly url: string;
  readonly cluster?: boolean;
  readonly tlsCa?: string;
  readonly keyPrefix: string;
  readonly timeoutMs: number;
  readonly maxValueBytes: number;
  readonly encryptionKeys?: EncryptionKeys;
  readonly logger: Logger;
  readonly metrics: RedisMetrics;
}

/** After a failure Redis is not asked for this long (one command probes it): a slow one would slow every lookup. */
export const SUSPEND_MS = 1000;

const reconnectDelay = (attempt: number): number => Math.min(100 * attempt, 2000);

/** KEYS: a lease; ARGV: its holder's token, the TTL. 1 if renewed, 0 if not that holder's. */
const RENEW_LEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
`;

/** Never a single point of failure: every command is bounded, nothing queues, a failure is an answer. */
export class RedisLink {
  /** This replica, in what it publishes and the leases it holds. */
  readonly replica = randomUUID();
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  readonly cipher: ValueCipher;
  /** Connecting, or a command ioredis still holds, fails past this: what a hung Redis leaves is cleared. */
  readonly backstopMs: number;
  private readonly renewLease: Script;
  /** SUBSCRIBE mode: one connection for every channel this replica listens on, made with the first. */
  private subscriber: RedisClient | undefined;
  private readonly listeners = new Map<string, (text: string) => void>();
  /** Channels Redis confirmed the subscriber is on; none from the moment its connection closes. */
  private readonly confirmed = new Set<string>();
  private readonly lostListeners: Array<() => void> = [];
  private up = false;
  private everUp = false;
  /** Whether a failure before the first connection was logged: one line, however often it is retried. */
  private toldUnreachable = false;
  private suspendedUntil = 0;
  private closed = false;

  constructor(readonly options: RedisLinkOptions) {
    this.keys = redisKeys(options.keyPrefix);
    this.cipher = valueCipherOf(options.encryptionKeys);
    this.backstopMs = Math.max(1000, options.timeoutMs * 10);
    const bounds = {
      commandTimeout: this.backstopMs,
      connectTimeout: this.backstopMs,
      // Fail fast instead of holding the operation until the reconnection.
      maxRetriesPerRequest: 0,
      ...(options.tlsCa === undefined ? {} : { tls: { ca: options.tlsCa } }),
    } satisfies RedisOptions;
    this.client = options.cluster === true
      ? createCluster(options.url, bounds)
      : new Redis(options.url, { ...bounds, enableOfflineQueue: false, retryStrategy: reconnectDelay });
    this.renewLease = this.script('gwLeaseRenew', 1, RENEW_LEASE);
    this.client.on('ready', () => {
      this.suspendedUntil = 0;
      this.mark(true, undefined);
    });
    this.client.on('error', (error: Error) => this.mark(false, error.message));
    this.client.on('close', () => this.mark(false, 'connection closed'));
    options.metrics.up.set(0);
    options.logger.info(
      { redis: maskCredentials(options.url), cluster: options.cluster === true },
      'sharing state with other replicas through Redis',
    );
    // How many keys, never which.
    const keys = options.encryptionKeys?.count;
    const encrypted = 'values written to Redis are encrypted (AES-256-GCM, REDIS_ENCRYPTION_KEY)';
    if (keys !== undefined) options.logger.info({ keys }, encrypted);
  }

  /** `op`: the metric's label. */
  async run<T>(op: string, command: (client: RedisClient) => Promise<T>): Promise<T | typeof UNAVAILABLE> {
    if (this.closed || performance.now() < this.suspendedUntil || this.client.status !== 'ready') return UNAVAILABLE;
    // Suspended until now: this command is the probe, and the others wait for its verdict.
    if (this.suspendedUntil !== 0) this.suspendedUntil = performance.now() + SUSPEND_MS;
    try {
      const value = await settleWithin(command(this.client), this.options.timeoutMs);
      if (value === LATE) throw new Error(`Redis did not answer within ${this.options.timeoutMs} ms`);
      this.suspendedUntil = 0;
      if (!this.up) this.mark(true, undefined);
      return value;
    } catch (error) {
      this.options.metrics.errors.inc({ op });
      this.suspendedUntil = performance.now() + SUSPEND_MS;
      this.mark(false, error instanceof Error ? error.message : String(error));
      return UNAVAILABLE;
    }
  }

  /** EVALSHA; it must touch only keys of one hash tag (one cluster slot). */
  script(name: string, numberOfKeys: number, lua: string): Script {
    this.client.defineCommand(name, { numberOfKeys, lua });
    type Defined = Record<string, (...values: Array<string | number>) => Promise<unknown>>;
    return (op, keys, args) => this.run(op, (client) => (client as unknown as Defined)[name]!(...keys, ...args));
  }

  /** Renews `lease` while `token` holds it, at a third of its life: two renewals may be lost. */
  hold(op: string, lease: string, token: string, ttlMs: number): () => void {
    const timer = setInterval(() => {
      void this.renewLease(op, [lease], [token, ttlMs]).then((renewed) => renewed === 0 && clearInterval(timer));
    }, Math.max(1, Math.floor(ttlMs / 3))).unref();
    return () => clearInterval(timer);
  }

  /**
   * `context`: its key or channel; undefined past REDIS_MAX_VALUE_BYTES as written. With `lifeMs`
   * and REDIS_ENCRYPTION_KEY, its expiry is sealed in: a writer without the key cannot keep it longer.
   */
  seal(value: string, context: string, lifeMs?: number): string | undefined {
    const text = lifeMs === undefined ? value : withExpiry(this.cipher, value, Date.now() + lifeMs);
    if (Buffer.byteLength(text) > this.options.maxValueBytes) return undefined;
    const sealed = this.cipher.seal(text, context);
    return Buffer.byteLength(sealed) > this.options.maxValueBytes ? undefined : sealed;
  }

  /** What `seal` made for `context` with a life, while that has not passed; else undefined. */
  openLiving(value: string | null | undefined, context: string) {
    return value == null ? undefined : unexpired(this.cipher, this.cipher.open(value, context));
  }

  /**
   * `receive` gets the messages published on `channel`: whether Redis confirmed the subscription,
   * within REDIS_TIMEOUT_MS (and the connection's first `ready`). Once the connection is back after
   * a loss, every channel still listened on is subscribed again.
   */
  async listen(channel: string, receive: (text: string) => void): Promise<boolean> {
    if (this.closed) return false;
    this.listeners.set(channel, receive);
    const fresh = this.subscriber === undefined;
    const subscriber = (this.subscriber ??= this.connectSubscriber());
    if (fresh) {
      await new Promise((resolve) => {
        subscriber.once('ready', resolve);
        setTimeout(resolve, this.backstopMs).unref();
      });
    }
    if (subscriber.status !== 'ready') return false;
    if (this.confirmed.has(channel)) return true;
    return (await settleWithin(this.subscribe(subscriber, channel), this.options.timeoutMs)) === true;
  }

  unlisten(channel: string): void {
    this.listeners.delete(channel);
    this.confirmed.delete(channel);
    this.subscriber?.unsubscribe(channel).catch(() => undefined);
  }

  /** `lost` runs when the subscriber's connection closes: what was published meanwhile is lost. */
  onListenersLost(lost: () => void): void {
    this.lostListeners.push(lost);
  }

  private subscribe(subscriber: RedisClient, channel: string): Promise<boolean> {
    return subscriber.subscribe(channel).then(
      () => {
        if (this.listeners.has(channel)) this.confirmed.add(channel);
        return true;
      },
      () => false,
    );
  }

  private connectSubscriber(): RedisClient {
    const subscriber = this.duplicate();
    subscriber.on('error', () => undefined);
    subscriber.on('ready', () => {
      for (const channel of this.listeners.keys()) void this.subscribe(subscriber, channel);
    });
    subscriber.on('close', () => {
      this.confirmed.clear();
      for (const lost of this.lostListeners) lost();
    });
    subscriber.on('message', (channel: string, text: string) => this.listeners.get(channel)?.(text));
    return subscriber;
  }

  /** A cluster's starts from every node known: the URL's may be dead. */
  duplicate(): RedisClient {
    if (!(this.client instanceof Cluster)) return this.client.duplicate();
    const known = this.client.nodes('all').map((node) => ({ host: node.options.host, port: node.options.port }));
    return this.client.duplicate([...known, seedNode(new URL(this.options.url))]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscriber?.disconnect();
    await settleWithin(this.client.quit().catch(() => undefined), Math.max(200, this.options.timeoutMs * 2));
    this.client.disconnect();
  }

  private mark(up: boolean, reason: string | undefined): void {
    if (this.closed) return;
    // A Redis never reached (a wrong password, port or protocol) must say why, not stay silent.
    if (!up && !this.everUp && !this.toldUnreachable) {
      this.toldUnreachable = true;
      this.options.logger.warn({ reason }, 'Redis not reachable: this replica goes on with its local caches, coalescing and APQ registry until it connects');
    }
    if (up === this.up) return;
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

/** The URL's credentials and TLS apply to every node. */
function createCluster(url: string, bounds: RedisOptions): Cluster {
  const seed = new URL(url);
  return new Cluster([seedNode(seed)], {
    enableOfflineQueue: false,
    // A closed connection and CLUSTERDOWN fail at once (maxRetriesPerRequest: 0's cluster form).
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    clusterRetryStrategy: reconnectDelay,
    redisOptions: {
      ...bounds,
      ...(seed.username === '' && seed.password === ''
        ? {}
        : { username: decodeURIComponent(seed.username), password: decodeURIComponent(seed.password) }),
      ...(seed.protocol === 'rediss:' ? { tls: bounds.tls ?? {} } : {}),
    },
  });
}

function seedNode(seed: URL): { host: string; port: number } {
  return { host: seed.hostname.replace(/^\[|\]$/g, ''), port: seed.port === '' ? 6379 : Number(seed.port) };
}
