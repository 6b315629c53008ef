import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { UpstreamAnswer } from '../upstream/exchange';
import { decodeAnswer, encodeAnswer } from './answerCodec';
import type { RedisKeys } from './redisKeys';
import { defineScript, type Script } from './scripts';
import type { RedisLink } from './RedisLink';
import { UNAVAILABLE } from './unavailable';

export interface FleetFlightOptions {
  /** REDIS_LEASE_MS: a holder that stops renewing (its replica died) loses the call after this. */
  readonly leaseMs: number;
  /** Longer answers are not handed over: the waiters make the call themselves. */
  readonly maxValueBytes: number;
}

/** How often a waiting replica looks for the answer (or an expired lease to take over). */
export const FLIGHT_POLL_MS = 10;

/**
 * How long a handed-over answer stays for the waiters to read: a few polls, an event-loop stall.
 * Only the replicas that waited for that holder know its key: a call that arrives once the answer
 * exists takes a new lease and asks the upstream, as in-process single flight does.
 */
export const HANDOVER_TTL_MS = 500;

/** What a handover holds when the holder's call failed or its answer was too large to hand over. */
const NO_ANSWER = JSON.stringify({ kind: 'none' });

/*
 * KEYS: lease, the handover of the holder last seen (none yet: a key that never exists); ARGV: the
 * caller's token, the lease TTL. That holder's answer if it is there; else the lease, if nobody
 * holds it (never held, released, or expired with its holder that died); else who holds it.
 */
const ACQUIRE = `
local handed = redis.call('get', KEYS[2])
if handed then return {'answer', handed} end
local holder = redis.call('get', KEYS[1])
if not holder then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {'lease', false}
end
return {'wait', holder}
`;

/* KEYS: lease, handover; ARGV: token, value, handover TTL. Hands over, and releases the lease if still ours. */
const HAND_OVER = `
redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[3])
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
return 1
`;

/* KEYS: lease; ARGV: token, TTL. Renews the lease only while it is still ours. */
const RENEW = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
`;

/** How a replica's call went through the fleet flight. */
export type FleetOutcome = 'held' | 'joined' | 'alone';

/**
 * Identical upstream calls in flight on different replicas are made once: the first replica takes
 * a short lease in Redis (SET NX PX, renewed while its call runs) and hands the answer over under
 * the same hash tag; the others look for it every {@link FLIGHT_POLL_MS} until it is there, their
 * caller's deadline passes or its signal aborts, or the lease is free again — its holder died, or
 * failed — and one of them takes it over.
 *
 * It sits behind the in-process single flight, so each replica has one caller here per call.
 * Errors are not handed over (a GatewayError is the holder's to classify): a waiter that learns
 * the holder failed makes the call itself, with its own retries and breakers. Redis failing in
 * any step means the call is made here, as without Redis.
 */
export class FleetFlight {
  private readonly acquire: Script;
  private readonly handOver: Script;
  private readonly renew: Script;

  constructor(
    private readonly link: RedisLink,
    private readonly keys: RedisKeys,
    private readonly options: FleetFlightOptions,
  ) {
    this.acquire = defineScript(link.client, 'gwFlightAcquire', 2, ACQUIRE);
    this.handOver = defineScript(link.client, 'gwFlightHandOver', 2, HAND_OVER);
    this.renew = defineScript(link.client, 'gwFlightRenew', 1, RENEW);
  }

  /**
   * Gets the answer for the call `key` of scope `digest`: from the replica holding the lease, or
   * by `call()` here (holding it, or alone when Redis cannot say). `expired` is what to throw when
   * the deadline passes while waiting; a waiter aborted by `signal` is rejected with its reason.
   */
  async run(
    digest: string,
    key: string,
    signal: AbortSignal,
    deadline: number | undefined,
    call: () => Promise<UpstreamAnswer>,
    onJoined: () => void,
    expired: () => Error,
  ): Promise<UpstreamAnswer> {
    const lease = this.keys.lease(digest, key);
    const handover = this.keys.handover(digest, key);
    const token = randomUUID();
    // The holder's token names its handover: waiting for one holder, a waiter reads only its answer.
    let awaited = `${handover}:-`;
    for (;;) {
      const reply = await this.link.run('flight-acquire', (client) => this.acquire(client, [lease, awaited], [token, this.options.leaseMs]));
      if (reply === UNAVAILABLE) return call();
      const [state, value] = reply as [string, string | null];
      if (state === 'lease') return this.hold(lease, `${handover}:${token}`, token, call);
      if (state === 'wait' && typeof value === 'string') awaited = `${handover}:${value}`;
      if (state === 'answer') {
        const decoded = typeof value === 'string' ? decodeAnswer(value) : undefined;
        if (decoded === undefined) return call();
        onJoined();
        return decoded.answer;
      }
      const left = deadline === undefined ? FLIGHT_POLL_MS : deadline - Date.now();
      if (left <= 0) throw expired();
      try {
        await sleep(Math.min(FLIGHT_POLL_MS, left), undefined, { signal });
      } catch {
        throw signal.reason;
      }
    }
  }

  private async hold(lease: string, handover: string, token: string, call: () => Promise<UpstreamAnswer>): Promise<UpstreamAnswer> {
    // Renewed at a third of its life: two renewals may be lost (a slow Redis) before it lapses.
    const renewal = setInterval(() => {
      void this.link.run('flight-renew', (client) => this.renew(client, [lease], [token, this.options.leaseMs]));
    }, Math.max(1, Math.floor(this.options.leaseMs / 3)));
    renewal.unref();
    let value = NO_ANSWER;
    try {
      const answer = await call();
      const encoded = encodeAnswer(answer);
      if (Buffer.byteLength(encoded) <= this.options.maxValueBytes) value = encoded;
      return answer;
    } finally {
      clearInterval(renewal);
      // Not awaited: the holder's caller has its answer; the waiters see it a moment later.
      void this.link.run('flight-handover', (client) => this.handOver(client, [lease, handover], [token, value, HANDOVER_TTL_MS]));
    }
  }
}
