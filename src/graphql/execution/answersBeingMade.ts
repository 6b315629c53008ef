import { LRUCache } from 'lru-cache';
import type { AbortSignalLike } from '../../cache/abort';
import { CallerShares, STRANGERS } from '../../cache/callerShares';
import { timeoutReason } from '../../upstream/errorMapping';
import { remainingMs } from '../../upstream/stages/types';
import { requestPlace } from '../../upstream/turns';

/** A caller's part of {@link AnswersBeingMade}, for one operation's answer. */
export interface AnswerShare {
  /** Counts `bytes` more that the operation holds (upstream answers, its answer): from its slot on. */
  grow(bytes: number): void;
  /** Holds `bytes` of room for an upstream answer on its way (with a slot), until given back; they count as
   * the answer's bytes do, but do not make it large. */
  reserve(bytes: number): Reservation;
  /** Bytes it counts now: grown, and held for answers on their way. */
  readonly holds: number;
  /** What the upstream's answers weigh, learned from all callers' (one process's). */
  readonly sizes: AnswerSizes;
  /** Whether the operation may go on now (an upstream call, a list): it takes a slot among the answers being
   * made if it holds none and one is free, then needs room for its bytes (Share.hasRoom). */
  mayGoOn(): boolean;
  /** Settles once `mayGoOn()`, as other answers give back; rejects with the signal's reason, or at
   * `deadline` (performance.now()'s clock) with a time-out. */
  room(signal: AbortSignalLike | undefined, deadline: number | undefined): Promise<void>;
  /** The answer holds (or the admission expects it to hold) more list items than a small answer: it counts
   * among the large from now on. */
  large(): void;
  /** Its next upstream call is expected to bring `bytes` (0 once it holds room for them): holding nothing,
   * past a slot's bytes (AnswerBounds.slotBytes), it waits for the small answers' room (unless it is their
   * first). Expecting less, a wait begun before looks again. */
  expect(bytes: number): void;
  /** The answer is made again from the start: gives back what was counted, keeping the slot. A wait begun
   * before fails (its call belongs to the answer before). */
  restart(): void;
  /** Gives back what was counted and the slot: the answer was made. A wait begun before never settles. */
  release(): void;
}

/** Room held for one upstream answer on its way (AnswerShare.reserve). */
export interface Reservation {
  /** Holds room for `bytes` in all if the operation may go on expecting them (as it looked before it held
   * any), saying whether it does; past a small answer's bytes, the operation is large from then on. False
   * once the room is no longer held (given back, or its answer restarted or made). */
  growTo(bytes: number): boolean;
  /** Gives the room back, once; a reservation made before the answer restarted is given back already. */
  giveBack(): void;
}

export interface AnswerBounds {
  /** Bytes of one caller's answers being made. */
  readonly callerBytes: number;
  /** Bytes of all callers' answers being made. */
  readonly processBytes: number;
  /** Operations making an answer at once. */
  readonly slots: number;
  /** Slots one caller holds at most; callers the upstream has not accepted hold that many together. */
  readonly callerSlots: number;
  /** An answer holding at most this many bytes (its lists few items: `large()`) is small: small answers
   * count against `processBytes` apart from large ones, so an ordinary query never waits behind others' large
   * answers. */
  readonly smallBytes: number;
  /** The largest upstream answer (CSE_MAX_RESPONSE_BYTES): what a call is ever expected to bring at most. */
  readonly answerBytes?: number;
  /** What an operation holding nothing may expect its next upstream answer to bring and still go on at once
   * (what a slot holds uncounted); past it, it waits for the small answers' room (`expect`). Default: no bound. */
  readonly slotBytes?: number;
}

/** One operation waiting: for a slot (`holder` set), or with its slot for room in the bytes. */
interface Waiter {
  readonly share: Share;
  /** Whose slots it waits among (requestPlace): its caller, or its address's strangers. */
  readonly holder: string | undefined;
  readonly stranger: boolean;
  /** Lets it go on: its signal and timer let go of, its promise resolved. */
  readonly go: () => void;
  /** Its signal and timer let go of: it never settles. */
  readonly end: () => void;
  /** Out of the set it waits in, its signal and timer let go of: it rejects with `reason`. */
  readonly fail: (reason: unknown) => void;
  /** Out of the set it waits in. */
  unlist: () => void;
}

/** Kinds of answers (route, project, engine) whose size is learned: far more than one process is asked about. */
const MAX_KINDS = 10_000;

/** What a learned weight keeps of the one before at each answer: one large answer is not a kind's for ever. */
const KEPT_PER_ANSWER = 0.75;

/**
 * What upstream answers of one kind (a route about one engine, or a project's engines) weigh per item, the
 * largest of late (each answer's weight, or the one before fading): a call holds as much room while on its
 * way, before its answer counts, never more than the largest answer accepted.
 */
export class AnswerSizes {
  private readonly perItem = new LRUCache<string, number>({ max: MAX_KINDS });

  constructor(private readonly answerBytes = Number.POSITIVE_INFINITY) {}

  /** The bytes `items` items of `kind` are expected to weigh; undefined before one was answered. */
  expected(kind: string, items: number): number | undefined {
    const perItem = this.perItem.get(kind);
    return perItem === undefined ? undefined : Math.min(this.answerBytes, Math.ceil(perItem * Math.max(1, items)));
  }

  /** `bytes`, or the largest answer accepted if fewer. */
  capped(bytes: number): number {
    return Math.min(this.answerBytes, bytes);
  }

  /** An answer of `kind` weighed `bytes` for the `items` items it held. */
  learned(kind: string, bytes: number, items: number): void {
    const perItem = bytes / Math.max(1, items);
    this.perItem.set(kind, Math.max(perItem, KEPT_PER_ANSWER * (this.perItem.get(kind) ?? 0)));
  }
}

/** Room for an answer of an operation that holds no slot (reserve): nothing is counted. */
const UNHELD: Reservation = { growTo: () => true, giveBack: () => {} };

/** Whether `share` is the first of `order`. */
const firstOf = (order: Set<Share> | undefined, share: Share): boolean => order?.values().next().value === share;

/** What all shares count against, and who waits. */
class Ledger {
  /** Bytes counted per caller, and of all callers. */
  readonly bytes: CallerShares;
  bytesByAll = 0;
  /** Slots held per holder (requestPlace), and by all. */
  readonly slots: CallerShares;
  slotsByAll = 0;
  /** Every caller's small answers, in the order they began counting, and their bytes. */
  readonly smallOrder = new Set<Share>();
  smallBytes = 0;
  /** Every caller's large answers, in the order they became large; and per caller, in the same order. */
  readonly largeOrder = new Set<Share>();
  readonly largeOf = new Map<string, Set<Share>>();
  /** Per holder, the operations waiting for a slot, in arrival order; holders in turn. */
  readonly forSlot = new Map<string, Set<Waiter>>();
  /** Per caller, the operations holding a slot that wait for room. */
  readonly forRoom = new Map<string, Set<Waiter>>();
  readonly sizes: AnswerSizes;

  constructor(readonly bounds: AnswerBounds) {
    this.sizes = new AnswerSizes(bounds.answerBytes);
    this.bytes = new CallerShares(bounds.callerBytes);
    this.slots = new CallerShares(bounds.callerSlots);
  }

  hasSlotFor(holder: string, stranger: boolean): boolean {
    return this.slotsByAll < this.bounds.slots && this.slots.room(holder, stranger);
  }

  /** Whether either pool is at its bound: any caller's answer may be waiting for it. */
  poolFull(): boolean {
    return this.smallFull() || this.largeFull();
  }

  smallFull(): boolean {
    return this.smallBytes >= this.bounds.processBytes;
  }

  largeFull(): boolean {
    return this.bytesByAll - this.smallBytes >= this.bounds.processBytes;
  }

  /**
   * One slot was given back: it goes to the waiting holder that holds the fewest (the first in turn of
   * those), which then waits behind the others next time. Slots are held for as long as an answer takes
   * (seconds for a large one), so a caller new to a full process gets the next, not its turn behind every
   * caller that waits (InFlightLimiter's order for calls, which are short).
   */
  grantSlot(): void {
    if (this.slotsByAll >= this.bounds.slots) return;
    let chosen: Waiter | undefined;
    let fewest = Number.POSITIVE_INFINITY;
    for (const [holder, waiters] of this.forSlot) {
      const first = waiters.values().next().value!;
      const held = this.slots.held(holder);
      if (held >= fewest || !this.slots.room(holder, first.stranger)) continue;
      chosen = first;
      fewest = held;
    }
    if (chosen === undefined) return;
    chosen.unlist();
    const holder = chosen.holder!;
    const rest = this.forSlot.get(holder);
    if (rest !== undefined) {
      this.forSlot.delete(holder);
      this.forSlot.set(holder, rest);
    }
    chosen.share.takeSlot(holder, chosen.stranger);
    if (chosen.share.hasRoom()) chosen.go();
    else chosen.share.list(this.forRoom, chosen.share.caller, { ...chosen, holder: undefined });
  }

  /** `caller`'s answers gave back bytes, or left a pool: its waiting answers look again; every caller's
   * when a pool was full, those holding the fewest bytes first: the answers let go on take their room in
   * that order, so a caller new to a full pool is not always behind the callers that waited before it. */
  wakeForRoom(caller: string, everyone: boolean): void {
    if (everyone) {
      const callers = [...this.forRoom.keys()].sort((a, b) => this.bytes.held(a) - this.bytes.held(b));
      for (const each of callers) {
        const waiters = this.forRoom.get(each);
        if (waiters !== undefined) this.wake(waiters);
      }
    } else {
      const waiters = this.forRoom.get(caller);
      if (waiters !== undefined) this.wake(waiters);
    }
  }

  private wake(waiters: Set<Waiter>): void {
    for (const waiter of [...waiters]) {
      if (!waiter.share.hasRoom()) continue;
      waiter.unlist();
      waiter.go();
    }
  }
}

class Share implements AnswerShare {
  /** Bytes grown (its answer, the upstream answers it holds): these alone make it large. */
  private counted = 0;
  /** Room held for upstream answers on their way (`reserve`). */
  private reserved = 0;
  /** The pool its bytes count in, from its first bytes until it gives them back. */
  private pool: 'small' | 'large' | undefined;
  /** Counts its give-backs: a reservation made before one is not given back again. */
  private counts = 0;
  /** Bytes grown before it held a slot: counted once it takes one. */
  private beforeSlot = 0;
  /** The holder its slot counts under, while it holds one. */
  private holder: string | undefined;
  private heldAsStranger = false;
  private waiter: Waiter | undefined;
  /** Told it is large (`large()`), whatever its bytes. */
  private largeByItems = false;
  /** What its next upstream call is expected to bring (`expect`). */
  private expecting = 0;

  constructor(
    private readonly ledger: Ledger,
    readonly caller: string,
    private readonly stranger: () => boolean,
    private readonly address: string,
  ) {}

  grow(bytes: number): void {
    if (this.holder === undefined) this.beforeSlot += bytes;
    else this.count(bytes);
  }

  get sizes(): AnswerSizes {
    return this.ledger.sizes;
  }

  get holds(): number {
    return this.counted + this.reserved;
  }

  reserve(bytes: number): Reservation {
    if (this.holder === undefined) return UNHELD;
    const counts = this.counts;
    let held = 0;
    const hold = (more: number) => {
      if (more !== 0) this.add(more, 'reserved');
      held += more;
    };
    hold(bytes);
    // Held for the answer before it restarted: given back with it.
    const current = () => this.counts === counts && held >= 0;
    return {
      growTo: (total) => {
        // Held for the answer before it restarted, or made: whoever still wants the call asks again.
        if (!current()) return false;
        if (total <= held) return true;
        if (this.holds + total - held > this.ledger.bounds.smallBytes) this.large();
        // Looked at as the call did before it held anything: its own room does not crowd itself out.
        const [before, expecting] = [held, this.expecting];
        hold(-before);
        this.expecting = total;
        const room = this.hasRoom();
        this.expecting = expecting;
        hold(room ? total : before);
        return room;
      },
      giveBack: () => {
        if (!current()) return;
        const { ledger } = this;
        // Everyone's answers look again only if the room it was held in was full.
        const everyone = this.pool === 'large' ? ledger.largeFull() : ledger.smallFull();
        if (held > 0) this.add(-held, 'reserved');
        held = -1;
        ledger.wakeForRoom(this.caller, everyone);
      },
    };
  }

  mayGoOn(): boolean {
    if (this.holder === undefined) {
      // Waiting for a slot: it is granted one in its turn (grantSlot), never a second.
      if (this.waiter !== undefined) return false;
      const stranger = this.stranger();
      const holder = requestPlace(this.caller, stranger, this.address);
      if (!this.ledger.hasSlotFor(holder, stranger)) return false;
      this.takeSlot(holder, stranger);
    }
    return this.hasRoom();
  }

  room(signal: AbortSignalLike | undefined, deadline: number | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) return reject(signal.reason);
      this.stopWaiting();
      const end = () => {
        this.waiter = undefined;
        signal?.removeEventListener('abort', aborted);
        clearTimeout(timer);
      };
      const go = () => {
        end();
        resolve();
      };
      const stop = (reason: unknown) => {
        this.stopWaiting();
        reject(reason);
      };
      const aborted = () => stop(signal!.reason);
      signal?.addEventListener('abort', aborted, { once: true });
      // A subscription's event has a deadline and no signal: every wait ends. (A request's signal aborts at
      // its deadline.)
      const timed = signal === undefined && deadline !== undefined;
      const timer = timed ? setTimeout(() => stop(timeoutReason()), Math.max(0, remainingMs(deadline))).unref() : undefined;
      const waiter = { share: this, go, end, fail: stop, unlist: () => {} };
      if (this.holder !== undefined) return this.list(this.ledger.forRoom, this.caller, { ...waiter, holder: undefined, stranger: false });
      const stranger = this.stranger();
      const holder = requestPlace(this.caller, stranger, this.address);
      this.list(this.ledger.forSlot, holder, { ...waiter, holder, stranger });
    });
  }

  expect(bytes: number): void {
    const less = bytes < this.expecting;
    this.expecting = bytes;
    // Expecting less, a wait for room begun before (with its slot) may be over: it looks again.
    const waiter = this.waiter;
    if (less && waiter !== undefined && this.holder !== undefined && this.hasRoom()) {
      waiter.unlist();
      waiter.go();
    }
  }

  large(): void {
    this.largeByItems = true;
    if (this.pool === 'small') this.becomeLarge();
  }

  restart(): void {
    // What waits belongs to the answer made before: it fails, so its calls free the operation's for the new one.
    this.waiter?.fail(new DOMException('The answer is made again from the start.', 'AbortError'));
    this.beforeSlot = 0;
    this.expecting = 0;
    this.giveBack();
  }

  release(): void {
    this.stopWaiting();
    this.beforeSlot = 0;
    this.expecting = 0;
    this.giveBack();
    if (this.holder === undefined) return;
    this.ledger.slots.release(this.holder, this.heldAsStranger);
    this.ledger.slotsByAll -= 1;
    this.holder = undefined;
    this.ledger.grantSlot();
  }

  /** A small answer waits for the small answers' room alone: waiting on its caller's large ones, it would
   * hold that room meanwhile. A large one waits for its caller's share, unless it is the caller's first
   * large answer, and for the large answers' room, unless it is the first of them: the first of all large
   * answers is its caller's first too, so one always goes on. Holding nothing, a small one goes on (unless
   * its next call is expected to bring more than a slot's bytes); one large from its first byte waits as
   * large ones do (until the large answers it waits for are made). */
  hasRoom(): boolean {
    const { bytes, smallOrder, largeOrder, largeOf, smallBytes, bytesByAll, bounds } = this.ledger;
    if (this.holds === 0 && !this.largeByItems) {
      // Past a slot's bytes, its next call would join the small answers with them (the first of which goes on).
      const within = this.expecting <= (bounds.slotBytes ?? Number.POSITIVE_INFINITY);
      return within || smallBytes < bounds.processBytes || firstOf(smallOrder, this);
    }
    if (this.pool === 'small') return smallBytes < bounds.processBytes || firstOf(smallOrder, this);
    if (bytes.full(this.caller) && !firstOf(largeOf.get(this.caller), this)) return false;
    return bytesByAll - smallBytes < bounds.processBytes || firstOf(largeOrder, this);
  }

  takeSlot(holder: string, stranger: boolean): void {
    this.holder = holder;
    this.heldAsStranger = stranger;
    this.ledger.slots.take(holder, stranger);
    this.ledger.slotsByAll += 1;
    if (this.beforeSlot > 0) this.count(this.beforeSlot);
    this.beforeSlot = 0;
  }

  /** Waits in `waiting` under `key` until let go of (`unlist`). */
  list(waiting: Map<string, Set<Waiter>>, key: string, waiter: Waiter): void {
    let waiters = waiting.get(key);
    if (waiters === undefined) waiting.set(key, (waiters = new Set()));
    const set = waiters;
    waiter.unlist = () => {
      set.delete(waiter);
      if (set.size === 0 && waiting.get(key) === set) waiting.delete(key);
    };
    set.add(waiter);
    this.waiter = waiter;
  }

  /** Out of whatever it waits in, never settling. */
  private stopWaiting(): void {
    const waiter = this.waiter;
    waiter?.unlist();
    waiter?.end();
  }

  private isSmall(): boolean {
    return !this.largeByItems && this.counted <= this.ledger.bounds.smallBytes;
  }

  private count(bytes: number): void {
    this.add(bytes, 'counted');
    if (this.pool === 'small' && !this.isSmall()) this.becomeLarge();
  }

  /** `bytes` more (or fewer) of `kind`, in its pool (joined with its first bytes). */
  private add(bytes: number, kind: 'counted' | 'reserved'): void {
    const { ledger } = this;
    if (this.pool === undefined) {
      if (this.isSmall()) {
        this.pool = 'small';
        ledger.smallOrder.add(this);
      } else this.joinLarge();
    }
    this[kind] += bytes;
    ledger.bytes.add(this.caller, bytes);
    ledger.bytesByAll += bytes;
    if (this.pool === 'small') ledger.smallBytes += bytes;
  }

  /** Its bytes leave the small answers for the large: small answers waiting may go on now. */
  private becomeLarge(): void {
    const { ledger } = this;
    const wake = ledger.smallBytes >= ledger.bounds.processBytes || firstOf(ledger.smallOrder, this);
    ledger.smallBytes -= this.holds;
    ledger.smallOrder.delete(this);
    this.joinLarge();
    if (wake) ledger.wakeForRoom(this.caller, true);
  }

  private joinLarge(): void {
    const { ledger } = this;
    this.pool = 'large';
    ledger.largeOrder.add(this);
    let own = ledger.largeOf.get(this.caller);
    if (own === undefined) ledger.largeOf.set(this.caller, (own = new Set()));
    own.add(this);
  }

  private giveBack(): void {
    if (this.pool === undefined) return;
    const { ledger, caller } = this;
    const everyone = ledger.poolFull();
    const held = this.holds;
    if (this.pool === 'small') {
      ledger.smallOrder.delete(this);
      ledger.smallBytes -= held;
    } else {
      ledger.largeOrder.delete(this);
      const own = ledger.largeOf.get(caller);
      if (own?.delete(this) === true && own.size === 0) ledger.largeOf.delete(caller);
    }
    ledger.bytes.add(caller, -held);
    ledger.bytesByAll -= held;
    this.counted = 0;
    this.reserved = 0;
    this.pool = undefined;
    this.counts += 1;
    ledger.wakeForRoom(caller, everyone);
  }
}

/**
 * What the answers being made hold, as their budgets count it: the upstream answers an operation fetched and
 * the answer it made of them. An operation takes a slot before its first upstream call or list, so one
 * waiting for it holds nothing fetched, and many arriving at once cannot all begin. With its slot, a caller
 * running many large operations makes them a share's worth at a time, its oldest first, the others waiting
 * for room before their next call or list. What an answer holds in memory while it is made is many times
 * its bytes (an object per value, a path per field), so the share is a fraction of what one operation may
 * send. An upstream call on its way holds room for its answer until it is answered, as much as such answers
 * weigh (AnswerSizes), so the calls that start together cannot all find the same room. All callers together
 * have bounds of their own: one user can have many tokens. Credentials the upstream has not accepted hold
 * one caller's slots together, and wait for them by address (requestPlace).
 */
export class AnswersBeingMade {
  private readonly ledger: Ledger;

  constructor(bounds: AnswerBounds) {
    this.ledger = new Ledger(bounds);
  }

  /** The share one operation of `caller` (callerDigest) counts its answer in. `stranger`: whether its
   * credentials are not yet known to be a caller's, asked when it takes a slot; `address`: its client's
   * (addressKey). */
  answerOf(caller: string, stranger: () => boolean = () => false, address = ''): AnswerShare {
    return new Share(this.ledger, caller, stranger, address);
  }

  /** Slots held, operations waiting for one or for room, and bytes counted. */
  get stats(): { slots: number; waiting: number; bytes: number; strangersSlots: number } {
    const { ledger } = this;
    let waiting = 0;
    for (const waiters of [...ledger.forSlot.values(), ...ledger.forRoom.values()]) waiting += waiters.size;
    return { slots: ledger.slotsByAll, waiting, bytes: ledger.bytesByAll, strangersSlots: ledger.slots.held(STRANGERS) };
  }
}
