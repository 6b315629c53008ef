import type { AbortSignalLike } from '../../cache/abort';
import { CallerShares } from '../../cache/callerShares';
import { timeoutReason } from '../../upstream/errorMapping';
import { remainingMs } from '../../upstream/stages/types';

/** A caller's part of {@link AnswersBeingMade}, for one operation's answer. */
export interface AnswerShare {
  /** Counts `bytes` more of the answer being made. */
  grow(bytes: number): void;
  /** Whether the operation may make more: its caller's answers being made are within the share, or its own
   * began counting before every other of them; and the process's are within its bound, or its own began
   * counting before every other's (one answer always goes on). */
  hasRoom(): boolean;
  /** Settles once `hasRoom()`, as the caller's answers are made; rejects with the signal's reason, or at
   * `deadline` (performance.now()'s clock) with a time-out. */
  room(signal: AbortSignalLike | undefined, deadline: number | undefined): Promise<void>;
  /** Gives back what was counted: the answer was made (or is made again from the start). */
  release(): void;
}

/**
 * The bytes of each caller's answers being made, as their budgets count them: a caller running many
 * large operations at once makes them a share's worth at a time, its oldest first, the others' lists
 * waiting for room. What one answer holds in memory while it is made is many times its bytes (an object
 * per value, a path per field), so the share is a fraction of what one operation may send. All callers'
 * answers together have a bound of their own, `processBytes`: many tokens (one user can have many) do
 * not multiply what the process holds; past it, the oldest answer of all goes on.
 */
export class AnswersBeingMade {
  private readonly made: CallerShares;
  private madeByAll = 0;
  /** Per caller, its answers being made, in the order they began counting. */
  private readonly making = new Map<string, Set<AnswerShare>>();
  /** Every caller's answers being made, in the order they began counting. */
  private readonly makingByAll = new Set<AnswerShare>();
  /** Per caller, what each answer waiting for room checks when another is made. */
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(
    perCallerBytes: number,
    private readonly processBytes = Number.POSITIVE_INFINITY,
  ) {
    this.made = new CallerShares(perCallerBytes);
  }

  /** The share one operation of `caller` (callerDigest) counts its answer in. */
  answerOf(caller: string): AnswerShare {
    let counted = 0;
    const share: AnswerShare = {
      grow: (bytes) => {
        if (counted === 0) {
          this.ordered(caller).add(share);
          this.makingByAll.add(share);
        }
        counted += bytes;
        this.made.add(caller, bytes);
        this.madeByAll += bytes;
      },
      hasRoom: () =>
        counted === 0 ||
        ((!this.made.full(caller) || this.making.get(caller)?.values().next().value === share) &&
          (this.madeByAll < this.processBytes || this.makingByAll.values().next().value === share)),
      room: (signal, deadline) =>
        new Promise<void>((resolve, reject) => {
          if (signal?.aborted === true) return reject(signal.reason);
          const waiters = this.waiting.get(caller) ?? new Set<() => void>();
          this.waiting.set(caller, waiters);
          const leave = () => {
            waiters.delete(check);
            if (waiters.size === 0 && this.waiting.get(caller) === waiters) this.waiting.delete(caller);
            signal?.removeEventListener('abort', aborted);
            clearTimeout(timer);
          };
          const check = () => {
            if (!share.hasRoom()) return;
            leave();
            resolve();
          };
          const stop = (reason: unknown) => {
            leave();
            reject(reason);
          };
          const aborted = () => stop(signal!.reason);
          waiters.add(check);
          signal?.addEventListener('abort', aborted, { once: true });
          // A subscription's event has a deadline and no signal: every wait ends.
          const timer = deadline === undefined ? undefined : setTimeout(() => stop(timeoutReason()), Math.max(0, remainingMs(deadline))).unref();
        }),
      release: () => {
        if (counted === 0) return;
        const making = this.making.get(caller);
        if (making?.delete(share) === true && making.size === 0) this.making.delete(caller);
        this.makingByAll.delete(share);
        // Its caller's answers may have waited for the caller's share; while the process's bound was
        // reached, any caller's may have waited for it.
        const woken = this.madeByAll >= this.processBytes ? [...this.waiting.values()] : [this.waiting.get(caller) ?? []];
        this.made.add(caller, -counted);
        this.madeByAll -= counted;
        counted = 0;
        for (const waiters of woken) for (const check of [...waiters]) check();
      },
    };
    return share;
  }

  private ordered(caller: string): Set<AnswerShare> {
    let making = this.making.get(caller);
    if (making === undefined) this.making.set(caller, (making = new Set()));
    return making;
  }
}
