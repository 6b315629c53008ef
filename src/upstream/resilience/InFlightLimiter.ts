import type { AbortSignalLike } from '../../cache/abort';
import { overloadedError, throwClassified } from '../errorMapping';
import type { AttemptStage } from '../stages/types';

/** Calling it more than once does nothing. */
export type Release = () => void;

export interface SlotBound {
  readonly inFlight: number;
  readonly queue: number;
}

/** A share whose calls also start at most `callsPerSecond` a second (a token bucket, burst the same),
 * each client address (addressKey) holding at most `perAddress` of it. */
export interface StrangersBound extends SlotBound {
  readonly callsPerSecond?: number;
  readonly perAddress?: SlotBound;
}

export interface InFlightLimits extends SlotBound {
  readonly perEngine?: SlotBound;
  readonly perCaller?: SlotBound;
  /** All calls of credentials the upstream has not accepted (made-up tokens) together. */
  readonly strangers?: StrangersBound;
}

export interface SlotClaim {
  readonly engine?: string | undefined;
  readonly caller?: string;
  /** Holds the strangers' share alone: no engine's (it may name any) or caller's. */
  readonly stranger?: boolean;
  /** A stranger's client address (addressKey): one address's made-up tokens hold its part alone. */
  readonly address?: string | undefined;
}

/** The address of calls that name none, and addressKey's of a socket without one: together they are one address. */
const NO_ADDRESS = '';

/** The caller of calls that name none (an operation's own fan-out, `run`): together they are one caller. */
const NO_CALLER = '';

/** A caller's share where none is set: it bounds nothing, and is where the caller's calls wait their turn. */
const NO_BOUND: SlotBound = { inFlight: Number.POSITIVE_INFINITY, queue: Number.POSITIVE_INFINITY };

/** The calls running and queued of the whole, one engine, one caller or one stranger address. */
interface Share {
  active: number;
  queued: number;
  readonly bound: SlotBound;
  readonly owner?: Map<string, Share>;
  readonly key?: string;
  /** The strangers' share alone: a call starts only with a whole token. */
  readonly bucket?: Bucket;
  /** A caller's (or a stranger address's) calls waiting, in arrival order: its part of the queue. */
  waiting?: Waiter[];
  /** The callers (or addresses) after and before it in turn, while it has calls waiting (Turns). */
  next?: Share | undefined;
  prev?: Share | undefined;
}

/** Callers (or addresses) with calls waiting, in the order they take their turns: a ring, `first` next. */
interface Turns {
  first: Share | undefined;
}

/** Fills at `perMs` a millisecond up to `burst`; `tokens` as of `at` (the limiter's clock). */
interface Bucket {
  tokens: number;
  at: number;
  readonly perMs: number;
  readonly burst: number;
}

interface Waiter {
  readonly shares: readonly Share[];
  /** Whose calls waiting it joined: its caller's, or a stranger's address's. */
  readonly holder: Share;
  readonly turns: Turns;
  /** Its place in arrival order, among all the calls that waited. */
  readonly arrival: number;
  readonly grant: (release: Release) => void;
  /** Out of the queue without a slot (the place given to another address's call). */
  readonly refuse: (error: Error) => void;
}

// Shares per engine and caller: one slow engine or busy caller cannot take every slot. No accessor
// properties: p-limit's made V8 keep all the limiter reached until a full collection (test/memory).
export class InFlightLimiter {
  private readonly total: Share;
  private readonly engines = new Map<string, Share>();
  private readonly callers = new Map<string, Share>();
  private readonly addresses = new Map<string, Share>();
  private readonly strangers: Share | undefined;
  /** Accepted callers with calls waiting, each at its caller; strangers' calls wait at their address. */
  private readonly callersTurns: Turns = { first: undefined };
  private readonly addressesTurns: Turns = { first: undefined };
  private arrivals = 0;
  /** The one timer of the strangers' bucket: set while a stranger waits for a token, unref'd. */
  private refillTimer: NodeJS.Timeout | undefined;

  /** `now`: milliseconds on a monotonic clock, for the strangers' rate. */
  constructor(
    private readonly limits: InFlightLimits,
    private readonly onChange: (inFlight: number) => void = () => {},
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(Number.isSafeInteger(limits.inFlight) && limits.inFlight >= 1)) {
      throw new RangeError(`InFlightLimiter: expected an integer bound of at least 1, got ${limits.inFlight}`);
    }
    this.total = { active: 0, queued: 0, bound: limits };
    const rate = limits.strangers?.callsPerSecond;
    if (rate !== undefined && !(Number.isFinite(rate) && rate > 0)) {
      throw new RangeError(`InFlightLimiter: expected strangers' calls per second above 0, got ${rate}`);
    }
    // Full at first: a replica that just started lets a burst of new callers' first calls through.
    const bucket = rate === undefined ? undefined : { tokens: rate, at: now(), perMs: rate / 1000, burst: rate };
    if (limits.strangers !== undefined) this.strangers = { active: 0, queued: 0, bound: limits.strangers, bucket };
  }

  /** A slot, now (no promise to wait for) or once one frees up; `undefined`: neither run nor wait (shed). */
  acquire(claim: SlotClaim, signal?: AbortSignalLike): Release | Promise<Release> | undefined {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const { perEngine, perCaller } = this.limits;
    const shares = [this.total];
    let address: Share | undefined;
    // A stranger's claim names no engine or caller.
    if (claim.stranger === true && this.strangers !== undefined) {
      shares.push(this.strangers);
      // One address's flood is shed past its part, and a new caller elsewhere finds a place. Without a part,
      // an address is still where its strangers' calls wait for their turn.
      address = share(this.addresses, claim.address ?? NO_ADDRESS, this.limits.strangers?.perAddress ?? this.strangers.bound);
      shares.push(address);
      // Tokens that came due since go to the strangers already waiting, in their turns, before this one.
      if (this.strangers.queued > 0) this.grantDue();
      else this.refill();
    }
    if (claim.engine !== undefined && perEngine) shares.push(share(this.engines, claim.engine, perEngine));
    const bounded = address === undefined && claim.caller !== undefined && perCaller !== undefined;
    if (bounded) shares.push(share(this.callers, claim.caller!, perCaller));
    if (mayRun(shares)) return this.take(shares);
    if (shares.some((s) => s.queued >= s.bound.queue) && !this.placeFromLargestAddress(shares)) return void forget(shares);
    // An accepted caller's calls wait at the caller, whether or not it has a share that bounds them.
    if (address === undefined && !bounded) shares.push(share(this.callers, claim.caller ?? NO_CALLER, NO_BOUND));
    for (const s of shares) s.queued += 1;
    const holder = address ?? shares.at(-1)!;
    const turns = address === undefined ? this.callersTurns : this.addressesTurns;
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        if (this.dequeue(waiter)) {
          forget(waiter.shares);
          this.scheduleRefill();
        }
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        shares,
        holder,
        turns,
        arrival: this.arrivals++,
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        refuse: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if ((holder.waiting ??= []).push(waiter) === 1) joinTurns(turns, holder);
      this.scheduleRefill();
    });
  }

  /** In arrival order; a synchronous throw becomes a rejection. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const slot = this.acquire({});
    if (slot === undefined) throw overloadedError();
    const release = typeof slot === 'function' ? slot : await slot;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  stage(): AttemptStage {
    return (next) => async (attempt) => {
      const claim = attempt.stranger ? { stranger: true, address: attempt.request.address } : { engine: attempt.engineKey, caller: attempt.caller };
      const slot = this.acquire(claim, attempt.signal);
      if (slot === undefined) {
        attempt.events.shed?.({ route: attempt.route });
        throw overloadedError();
      }
      const release = typeof slot === 'function' ? slot : await slot.catch(throwClassified);
      try {
        attempt.request.events?.inFlight?.(this.total.active);
        return await next(attempt);
      } finally {
        release();
        attempt.request.events?.inFlight?.(this.total.active);
      }
    };
  }

  /**
   * A stranger's call that finds only the strangers' queue full takes the place of the newest queued call of
   * the address holding the most places (refused OVERLOADED), when that address holds more than its own:
   * however many addresses flood, even each holding one place, a caller from another one gets a place.
   */
  private placeFromLargestAddress(shares: readonly Share[]): boolean {
    const strangers = this.strangers;
    const own = shares.find((s) => s.owner === this.addresses);
    if (strangers === undefined || own === undefined) return false;
    if (shares.some((s) => s !== strangers && s.queued >= s.bound.queue)) return false;
    let largest: Share | undefined;
    for (const s of this.addresses.values()) {
      if (s.queued > own.queued && s.queued > (largest?.queued ?? 0)) largest = s;
    }
    const newest = largest?.waiting?.at(-1);
    if (newest === undefined) return false;
    this.dequeue(newest);
    forget(newest.shares);
    newest.refuse(overloadedError());
    return true;
  }

  /** Out of its queue, its places given back; false if it was not waiting. */
  private dequeue(waiter: Waiter): boolean {
    const { holder } = waiter;
    const queue = holder.waiting!;
    const index = queue.indexOf(waiter);
    if (index < 0) return false;
    queue.splice(index, 1);
    for (const s of waiter.shares) s.queued -= 1;
    if (queue.length === 0) leaveTurns(waiter.turns, holder);
    return true;
  }

  /**
   * The accepted caller's call to start next, if one may: the first that may run of the first caller in
   * turn that has one. Calls waiting on a full engine's share are passed over, as are callers at their own.
   */
  private callersTurn(): Waiter | undefined {
    const first = this.callersTurns.first;
    if (first === undefined || this.total.active >= this.total.bound.inFlight) return undefined;
    let caller = first;
    do {
      if (caller.active < caller.bound.inFlight) {
        const waiter = caller.waiting!.find((each) => mayRun(each.shares));
        if (waiter !== undefined) return waiter;
      }
      caller = caller.next!;
    } while (caller !== first);
    return undefined;
  }

  /**
   * The stranger's call to start next, if one may: the first waiting of the first address in turn that is
   * under its part of the slots. Only addresses at that part are passed over, and they hold strangers'
   * slots that are not all taken, so a grant walks few of them however many wait.
   */
  private strangersTurn(): Waiter | undefined {
    const first = this.addressesTurns.first;
    if (first === undefined || !mayRun([this.total, this.strangers!])) return undefined;
    let address = first;
    while (address.active >= address.bound.inFlight) {
      address = address.next!;
      if (address === first) return undefined;
    }
    return address.waiting![0];
  }

  private take(shares: readonly Share[]): Release {
    for (const s of shares) {
      s.active += 1;
      if (s.bucket !== undefined) s.bucket.tokens -= 1;
    }
    this.onChange(this.total.active);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const s of shares) s.active -= 1;
      forget(shares);
      // A slot handed straight to a waiter is reported by `take`. Its engine's share and its caller's, freed
      // too, may each let another waiter run, if the one granted took neither.
      if (!this.grantNext()) this.onChange(this.total.active);
      else if (shares.some((s) => s !== this.total && s.queued > 0 && s.active < s.bound.inFlight)) this.grantDue();
    };
  }

  // The accepted caller's call whose turn it is, or the strangers' call whose turn it is, whichever arrived
  // first. Accepted callers take turns, and strangers take turns by address, each one's calls in arrival
  // order: a new caller waits behind about one call of each caller (or flooding address) with calls waiting,
  // not behind all the places they hold.
  private grantNext(): boolean {
    const strangersWaiting = this.strangers !== undefined && this.strangers.queued > 0;
    if (strangersWaiting) this.refill();
    const accepted = this.callersTurn();
    const stranger = strangersWaiting ? this.strangersTurn() : undefined;
    const waiter = stranger !== undefined && (accepted === undefined || stranger.arrival < accepted.arrival) ? stranger : accepted;
    if (waiter === undefined) return false;
    this.dequeue(waiter);
    // Its caller (or address) takes its next turn behind every other with calls waiting.
    const { holder, turns } = waiter;
    if (holder.next !== undefined) {
      leaveTurns(turns, holder);
      joinTurns(turns, holder);
    }
    waiter.grant(this.take(waiter.shares));
    if (strangersWaiting) this.scheduleRefill();
    return true;
  }

  /** Every waiting call that may run now: those a freed slot skipped for want of a token. */
  private grantDue(): void {
    while (this.grantNext());
  }

  private refill(): void {
    const bucket = this.strangers?.bucket;
    if (bucket === undefined) return;
    const now = this.now();
    bucket.tokens = Math.min(bucket.burst, bucket.tokens + (now - bucket.at) * bucket.perMs);
    bucket.at = now;
  }

  // One timer for all the strangers waiting, not one each: it fires when the next token is due (a
  // freed slot grants whoever may run at that moment), and goes when the last stranger stops waiting.
  private scheduleRefill(): void {
    const strangers = this.strangers;
    const bucket = strangers?.bucket;
    if (bucket === undefined) return;
    if (strangers!.queued === 0) {
      clearTimeout(this.refillTimer);
      this.refillTimer = undefined;
      return;
    }
    if (this.refillTimer !== undefined || bucket.tokens >= 1) return;
    const dueMs = Math.max(1, Math.ceil((1 - bucket.tokens) / bucket.perMs));
    this.refillTimer = setTimeout(() => {
      this.refillTimer = undefined;
      this.grantDue();
      this.scheduleRefill();
    }, dueMs).unref();
  }
}

/** Last in turn: behind every other with calls waiting. */
function joinTurns(turns: Turns, holder: Share): void {
  const first = turns.first;
  if (first === undefined) {
    turns.first = holder.next = holder.prev = holder;
    return;
  }
  holder.prev = first.prev;
  holder.next = first;
  first.prev!.next = holder;
  first.prev = holder;
}

function leaveTurns(turns: Turns, holder: Share): void {
  if (holder.next === holder) turns.first = undefined;
  else {
    holder.prev!.next = holder.next;
    holder.next!.prev = holder.prev;
    if (turns.first === holder) turns.first = holder.next;
  }
  holder.next = holder.prev = undefined;
}

function mayRun(shares: readonly Share[]): boolean {
  return shares.every((s) => s.active < s.bound.inFlight && (s.bucket === undefined || s.bucket.tokens >= 1));
}

function share(shares: Map<string, Share>, key: string, bound: SlotBound): Share {
  let found = shares.get(key);
  if (found === undefined) shares.set(key, (found = { active: 0, queued: 0, bound, owner: shares, key }));
  return found;
}

function forget(shares: readonly Share[]): void {
  for (const s of shares) if (s.owner !== undefined && s.active === 0 && s.queued === 0) s.owner.delete(s.key!);
}
