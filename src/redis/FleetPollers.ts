import { credentialDigest } from '../cache/scopeKey';
import { UNAVAILABLE } from '../cache/secondLevel';
import type { PollPlan, PollResult, WatchCoordinator, WatchFleet } from '../subscriptions/EngineWatch';
import type { Credentials } from '../upstream/credentials';
import type { RedisLink, Script } from './RedisLink';

/** Ticks a lease and a replica's watch entries live unrenewed: one slow tick loses nothing. */
const LEASE_TICKS = 3;

// KEYS: watchers hash, poller lease. ARGV: replica id, TTL (0: it leaves), what it watches (`j:<id>`,
// `e`). Returns {1 if the replica polls, the fleet's union}. Redis's clock only: replicas' clocks differ.
const TICK = `
local me, ttl = ARGV[1], tonumber(ARGV[2])
local time = redis.call('time')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local mine = {}
for i = 3, #ARGV do
  mine[ARGV[i]] = true
  redis.call('hset', KEYS[1], me .. '|' .. ARGV[i], now + ttl)
end
local union, seen = {}, {}
local all = redis.call('hgetall', KEYS[1])
for i = 1, #all, 2 do
  local owner, what = string.match(all[i], '^(.-)|(.*)$')
  if tonumber(all[i + 1]) < now or (owner == me and not mine[what]) then
    redis.call('hdel', KEYS[1], all[i])
  elseif not seen[what] then
    seen[what] = true
    union[#union + 1] = what
  end
end
if ttl == 0 then
  if redis.call('get', KEYS[2]) == me then redis.call('del', KEYS[2]) end
  return {0, {}}
end
redis.call('pexpire', KEYS[1], ttl)
local holder = redis.call('get', KEYS[2])
if holder and holder ~= me then return {0, union} end
redis.call('set', KEYS[2], me, 'PX', ttl)
return {1, union}
`;

const EVENTS = 'e';
const JOB = 'j:';
type PollMessage = { readonly from: string; readonly result: PollResult } | { readonly from: string; readonly tooLarge: true };

/** One subscription poller per scope and engine in the fleet; in any doubt a replica polls for itself. */
export class FleetPollers implements WatchFleet {
  private readonly tick: Script;
  private readonly ttlMs: number;
  private readonly receivers = new Map<string, (result: PollResult, gap: boolean, bytes: number) => void>();
  /** Who published the last result on each channel: another poller means messages may have been lost. */
  private readonly lastFrom = new Map<string, string>();
  /** When each channel's last message could not be delivered: its listener polls for itself. */
  private readonly unshared = new Map<string, number>();
  /** What stops renewing the lease of each poll this replica makes for the fleet. */
  private readonly renewals = new Map<string, () => void>();
  private closed = false;

  /** @param pollMs SUBSCRIPTION_POLL_MS: every watch ticks once per interval. */
  constructor(private readonly link: RedisLink, pollMs: number) {
    this.tick = link.script('gatewayPollerTick', 2, TICK);
    this.ttlMs = LEASE_TICKS * pollMs;
    link.onListenersLost(() => this.lastFrom.clear());
  }

  join(credentials: Credentials, engineId: string, receive: (result: PollResult, gap: boolean, bytes: number) => void): WatchCoordinator {
    const digest = credentialDigest(credentials);
    const { keys } = this.link;
    const { metrics } = this.link.options;
    const watchers = keys.watchers(digest, engineId);
    const lease = keys.pollerLease(digest, engineId);
    const channel = keys.polls(digest, engineId);
    this.receivers.set(channel, receive);
    const local = (local: { jobIds: readonly string[]; events: boolean }): PollPlan => {
      metrics.fleetPolls.inc({ role: 'local' });
      return { role: 'poll', ...local, publish: false };
    };
    return {
      plan: async (mine) => {
        this.stopRenewing(channel);
        const entries = [...mine.jobIds.map((id) => JOB + id), ...(mine.events ? [EVENTS] : [])];
        const answer = await this.tick('poller', [watchers, lease], [this.link.replica, this.ttlMs, ...entries]);
        if (answer === UNAVAILABLE || !Array.isArray(answer)) return local(mine);
        const [polls, union] = answer as [number, string[]];
        if (polls === 1) {
          metrics.fleetPolls.inc({ role: 'poller' });
          this.unshared.delete(channel);
          if (this.receivers.get(channel) === receive) this.startRenewing(channel, lease);
          const jobIds = union.filter((what) => what.startsWith(JOB)).map((what) => what.slice(JOB.length));
          return { role: 'poll', jobIds, events: union.includes(EVENTS), publish: true };
        }
        // Listening is safe only once Redis confirmed the subscription.
        // Left meanwhile (the watch stopped): not listened on again, for nobody to unlisten.
        const here = () => !this.closed && this.receivers.get(channel) === receive;
        const listening = here() && (await this.link.listen(channel, (text) => this.receive(channel, text)));
        if (!here()) this.unlistenUnwatched(channel);
        if (!listening || this.pollsForItself(channel)) return local(mine);
        metrics.fleetPolls.inc({ role: 'listener' });
        return { role: 'listen' };
      },
      publish: (result) => {
        this.stopRenewing(channel);
        // With a key, sealed with its expiry: a Redis writer cannot replay it later as news.
        const message = (value: PollMessage) => this.link.seal(JSON.stringify(value), channel, this.ttlMs);
        // A marker fits: REDIS_MAX_VALUE_BYTES is at least 1024.
        const value = message({ from: this.link.replica, result }) ?? message({ from: this.link.replica, tooLarge: true })!;
        void this.link.run('poller', (client) => client.publish(channel, value));
      },
      leave: () => {
        this.stopRenewing(channel);
        this.unshared.delete(channel);
        if (this.receivers.get(channel) === receive) {
          this.receivers.delete(channel);
          this.lastFrom.delete(channel);
        }
        // Best effort: what is left behind expires within LEASE_TICKS intervals.
        void this.tick('poller', [watchers, lease], [this.link.replica, 0]);
        this.unlistenUnwatched(channel);
      },
    };
  }

  close(): void {
    this.closed = true;
    for (const channel of [...this.renewals.keys()]) this.stopRenewing(channel);
  }

  /** While this replica polls, so no listener takes over a slow poll; if lost, the next tick says who polls. */
  private startRenewing(channel: string, lease: string): void {
    this.stopRenewing(channel);
    this.renewals.set(channel, this.link.hold('poller', lease, this.link.replica, this.ttlMs));
  }

  private stopRenewing(channel: string): void {
    this.renewals.get(channel)?.();
    this.renewals.delete(channel);
  }

  /** Whether the last message on `channel`, within a lease's life, could not be delivered. */
  private pollsForItself(channel: string): boolean {
    const since = this.unshared.get(channel) ?? Number.NEGATIVE_INFINITY;
    if (performance.now() - since >= this.ttlMs) this.unshared.delete(channel);
    return this.unshared.has(channel);
  }

  /** A watch of the same scope and engine that joined since listens on the same channel. */
  private unlistenUnwatched(channel: string): void {
    if (!this.receivers.has(channel)) this.link.unlisten(channel);
  }

  private receive(channel: string, text: string): void {
    const receive = this.receivers.get(channel);
    if (receive === undefined) return;
    const message = readMessage(this.link.openLiving(text, channel)?.text);
    if (message?.from === this.link.replica) return;
    if (message === undefined || !('result' in message)) {
      this.unshared.set(channel, performance.now());
      return;
    }
    this.unshared.delete(channel);
    const gap = this.lastFrom.get(channel) !== message.from;
    this.lastFrom.set(channel, message.from);
    receive(message.result, gap, text.length);
  }
}

/** A published message as this version writes it, or undefined (it would throw in the watch). */
function readMessage(text: string | undefined): PollMessage | undefined {
  const strings = (list: unknown) => Array.isArray(list) && list.every((item) => typeof item === 'string');
  try {
    const { from, result, tooLarge } = JSON.parse(text ?? '') as Record<string, unknown>;
    if (typeof from !== 'string') return undefined;
    if (tooLarge === true) return { from, tooLarge };
    const { jobs, newest, missing, engineMissing, failed, startedAt } = result as Record<string, unknown>;
    const valid =
      Array.isArray(jobs) && jobs.every((job) => typeof job === 'object' && job !== null && 'id' in job) &&
      (newest === undefined || strings(newest)) && strings(missing) &&
      typeof engineMissing === 'boolean' && typeof failed === 'boolean' &&
      (startedAt === undefined || Number.isFinite(startedAt));
    return valid ? { from, result: result as PollResult } : undefined;
  } catch {
    return undefined;
  }
}
