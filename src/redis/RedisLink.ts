import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger';
import { maskPassword } from '../config/loadConfig';
import type { RedisMetrics } from './redisMetrics';

import { UNAVAILABLE, type Unavailable } from './unavailable';

export { UNAVAILABLE, type Unavailable } from './unavailable';

export interface RedisLinkOptions {
  readonly url: string;
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

/**
 * The replica's one connection to Redis, and the rule that Redis is never a single point of
 * failure: every command is bounded by `timeoutMs` (ioredis `commandTimeout`), nothing queues while
 * the connection is down (`enableOfflineQueue: false`), and a failure is an answer —
 * {@link UNAVAILABLE} — never an exception, so every caller has a local way on.
 *
 * State changes (up → down → up) are logged once each and exported as `gateway_redis_up`; each
 * failed command counts in `gateway_redis_errors_total{op}`. ioredis reconnects by itself, and
 * sharing resumes with the first command after it does.
 */
export class RedisLink {
  readonly client: Redis;
  private up = false;
  /** Set once the link was up: the first connection failing is said, not "lost". */
  private everUp = false;
  private suspendedUntil = 0;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly options: RedisLinkOptions) {
    this.now = options.now ?? (() => performance.now());
    const redisOptions: RedisOptions = {
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(1000, options.timeoutMs * 10),
      // Fail fast instead of queueing: a command issued while disconnected would otherwise wait
      // for the reconnection, holding the operation that asked.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Reconnect forever, at most every 2 s: Redis coming back must need nobody's help.
      retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
      lazyConnect: false,
    };
    this.client = new Redis(options.url, redisOptions);
    this.client.on('ready', () => {
      this.suspendedUntil = 0;
      this.mark(true, undefined);
    });
    // Without a listener ioredis prints every connection error; the state change is what matters.
    this.client.on('error', (error: Error) => this.mark(false, error.message));
    this.client.on('close', () => this.mark(false, 'connection closed'));
    options.metrics.up.set(0);
    options.logger.info({ redis: maskPassword(new URL(options.url)) }, 'sharing state with other replicas through Redis');
  }

  /** Whether the last thing heard from Redis was good. */
  get isUp(): boolean {
    return this.up;
  }

  /**
   * Runs one command (or pipeline); {@link UNAVAILABLE} when Redis is down, slow or refused it.
   * `op` names the command family in the error metric (a closed set, chosen by the callers).
   */
  async run<T>(op: string, command: (client: Redis) => Promise<T>): Promise<T | Unavailable> {
    if (this.closed || this.now() < this.suspendedUntil || this.client.status !== 'ready') return UNAVAILABLE;
    try {
      const value = await command(this.client);
      if (!this.up) this.mark(true, undefined);
      return value;
    } catch (error) {
      this.options.metrics.errors.inc({ op });
      this.suspendedUntil = this.now() + SUSPEND_MS;
      this.mark(false, error instanceof Error ? error.message : String(error));
      return UNAVAILABLE;
    }
  }

  /** Quits the connection (bounded: a Redis that does not answer is disconnected). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const quit = this.client.quit().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(200, this.options.timeoutMs * 2))));
    await Promise.race([quit, late]);
    clearTimeout(timer);
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
