import type { AbortSignalLike } from '../../cache/abort';
import { CallerShares } from '../../cache/callerShares';
import { timeoutReason } from '../../upstream/errorMapping';
import { remainingMs } from '../../upstream/stages/types';

/** A caller's part of {@link AnswersBeingMade}, for one operation's answer. */
export interface AnswerShare {
  /** Counts `bytes` more that the operation holds (upstream answers, its answer): from its place on. */
  grow(bytes: number): void;
  /** Whether the operation may go on now (an upstream call, a list): it takes a place among the answers being
   * made if it holds none and one is free; then its caller's answers must be within the share, or its own
   * began counting before every other of them; and the process's within its bound, or its own began
   * counting before every other's (one answer always goes on). */
  mayGoOn(): boolean;
  /** Settles once `mayGoOn()`, as other answers are made; rejects with the signal's reason, or at `deadline`
   * (performance.now()'s clock) with a time-out. */
  room(signal: AbortSignalLike | undefined, deadline: number | undefined): Promise<void>;
  /** Gives back what was counted and the place: the answer was made (or is made again from the start). A
   * wait begun before it never settles: what waited was let go of. */
  release(): void;
}

export interface AnswerBounds {
  /** Bytes of one caller's answers being made. */
  readonly callerBytes: number;
  /** Bytes of all callers' answers being made. */
  readonly processBytes: number;
  /** Operations making an answer at once, each holding up to what counts before its bytes are shared. */
  readonly places: number;
  /** Places one caller holds at most; callers the upstream has not accepted hold that many together. */
  readonly callerPlaces: number;
}

/**
 * What the answers being made hold, as their budgets count it: the upstream answers an operation fetched and
 * the answer it made of them. An operation takes a place before its first upstream call or list, so one
 * waiting for it holds nothing fetched; many arriving at once cannot all begin. Within its place, a caller
 * running many large operations makes them a share's worth at a time, its oldest first, the others waiting
 * for room before their next call or list. What an answer holds in memory while it is made is many times
 * its bytes (an object per value, a path per field), so the share is a fraction of what one operation may
 * send. All callers together have bounds of their own: one user can have many tokens. A place freed goes to
 * the waiting caller holding the fewest, so another caller's small query is not queued behind many callers'
 * large ones.
 */
export class AnswersBeingMade {
  private readonly made: CallerShares;
  private madeByAll = 0;
  private readonly placed: CallerShares;
  private placedByAll = 0;
  /** Per caller, its answers being made, in the order they began counting. */
  private readonly making = new Map<string, Set<AnswerShare>>();
  /** Every caller's answers being made, in the order they began counting. */
  private readonly makingByAll = new Set<AnswerShare>();
  /** Per caller, what each answer waiting checks when another gives back; callers in turn. */
  private readonly waiting = new Map<string, Set<() => boolean>>();

  constructor(private readonly bounds: AnswerBounds) {
    this.made = new CallerShares(bounds.callerBytes);
    this.placed = new CallerShares(bounds.callerPlaces);
  }

  /** The share one operation of `caller` (callerDigest) counts its answer in; `stranger`: whether its
   * credentials are not yet known to be a caller's, asked when it takes its place. */
  answerOf(caller: string, stranger: () => boolean = () => false): AnswerShare {
    let counted = 0;
    /** Bytes grown before the share held a place: counted once it takes one. */
    let early = 0;
    /** Whether it holds a place, as a stranger or not. */
    let place: { stranger: boolean } | undefined;
    let leaveWait: (() => void) | undefined;
    const count = (bytes: number) => {
      if (counted === 0) {
        this.ordered(caller).add(share);
        this.makingByAll.add(share);
      }
      counted += bytes;
      this.made.add(caller, bytes);
      this.madeByAll += bytes;
    };
    const takePlace = (): boolean => {
      if (place !== undefined) return true;
      if (this.placedByAll >= this.bounds.places) return false;
      const asStranger = stranger();
      if (!this.placed.room(caller, asStranger)) return false;
      place = { stranger: asStranger };
      this.placed.take(caller, asStranger);
      this.placedByAll += 1;
      if (early > 0) count(early);
      early = 0;
      return true;
    };
    const share: AnswerShare = {
      grow: (bytes) => {
        if (place === undefined) early += bytes;
        else count(bytes);
      },
      mayGoOn: () =>
        takePlace() &&
        (counted === 0 ||
          ((!this.made.full(caller) || this.making.get(caller)?.values().next().value === share) &&
            (this.madeByAll < this.bounds.processBytes || this.makingByAll.values().next().value === share))),
      room: (signal, deadline) =>
        new Promise<void>((resolve, reject) => {
          if (signal?.aborted === true) return reject(signal.reason);
          const waiters = this.waiting.get(caller) ?? new Set<() => boolean>();
          this.waiting.set(caller, waiters);
          const leave = () => {
            leaveWait = undefined;
            waiters.delete(check);
            if (waiters.size === 0 && this.waiting.get(caller) === waiters) this.waiting.delete(caller);
            signal?.removeEventListener('abort', aborted);
            clearTimeout(timer);
          };
          const check = () => {
            if (!share.mayGoOn()) return false;
            leave();
            resolve();
            return true;
          };
          const stop = (reason: unknown) => {
            leave();
            reject(reason);
          };
          const aborted = () => stop(signal!.reason);
          leaveWait?.();
          leaveWait = leave;
          waiters.add(check);
          signal?.addEventListener('abort', aborted, { once: true });
          // A subscription's event has a deadline and no signal: every wait ends.
          const timer = deadline === undefined ? undefined : setTimeout(() => stop(timeoutReason()), Math.max(0, remainingMs(deadline))).unref();
        }),
      release: () => {
        leaveWait?.();
        early = 0;
        if (place === undefined) return;
        this.placed.release(caller, place.stranger);
        this.placedByAll -= 1;
        place = undefined;
        if (counted > 0) {
          const making = this.making.get(caller);
          if (making?.delete(share) === true && making.size === 0) this.making.delete(caller);
          this.makingByAll.delete(share);
          this.made.add(caller, -counted);
          this.madeByAll -= counted;
          counted = 0;
        }
        this.wake();
      },
    };
    return share;
  }

  /** Every waiting answer looks again, callers holding the fewest places first, then in turn: one whose
   * answer went on waits behind the others next time. */
  private wake(): void {
    if (this.waiting.size === 0) return;
    const callers = [...this.waiting].sort(([a], [b]) => this.placed.held(a) - this.placed.held(b));
    for (const [caller, waiters] of callers) {
      let went = false;
      for (const check of [...waiters]) went = check() || went;
      if (went && this.waiting.get(caller) === waiters) {
        this.waiting.delete(caller);
        this.waiting.set(caller, waiters);
      }
    }
  }

  private ordered(caller: string): Set<AnswerShare> {
    let making = this.making.get(caller);
    if (making === undefined) this.making.set(caller, (making = new Set()));
    return making;
  }
}
