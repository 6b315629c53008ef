import type { AbortSignalLike } from '../cache/abort';

/**
 * Turns of the event loop, taken in rounds: each round (one pass of the loop) hands one turn to each waiter
 * that names a caller, however many steps that caller has waiting. Long work on upstream answers lets other
 * requests run between its steps, and one caller's many operations share one caller's place in the rounds:
 * another caller's request waits behind one step of each caller, not one step of each of their operations.
 */
class TurnRounds {
  /** Steps waiting, per caller, in the order the callers came; a key of its own for a step that names none. */
  private readonly waiting = new Map<unknown, Array<() => void>>();
  private scheduled = false;

  /** Whether any step waits for its turn. */
  get busy(): boolean {
    return this.waiting.size > 0;
  }

  next(caller: unknown): Promise<void> {
    return new Promise((resolve) => {
      const steps = this.waiting.get(caller);
      if (steps === undefined) this.waiting.set(caller, [resolve]);
      else steps.push(resolve);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.round);
      }
    });
  }

  private readonly round = (): void => {
    // The steps' continuations run after this callback, so no caller joins while the round is handed out.
    for (const [caller, steps] of this.waiting) {
      const step = steps.shift()!;
      if (steps.length === 0) this.waiting.delete(caller);
      step();
    }
    this.scheduled = this.waiting.size > 0;
    if (this.scheduled) setImmediate(this.round);
  };
}

const rounds = new TurnRounds();

/**
 * The next turn of `caller` (its `callerDigest`); without one, the next pass of the event loop. With an
 * operation's `signal`, the turn rejects with its reason once it has aborted: the operation's own work
 * (a task's output parsed, say) stops there, its caller having left or its time being up.
 */
export const nextTurn = (caller?: string, signal?: AbortSignalLike): Promise<void> => {
  const turn = rounds.next(caller ?? Symbol());
  return signal === undefined ? turn : turn.then(() => {
    if (signal.aborted) throw signal.reason;
  });
};

/**
 * The caller's next turn (as nextTurn) while other steps wait for theirs; else undefined, so the step goes
 * on at once (after checking `signal`): with nothing waiting there is no one for it to let go first.
 */
export function turnIfBusy(caller?: string, signal?: AbortSignalLike): Promise<void> | undefined {
  if (rounds.busy) return nextTurn(caller, signal);
  if (signal?.aborted === true) throw signal.reason;
  return undefined;
}

/** Counts work; once a turn's worth is done, `due` hands back a turn to wait for, else nothing (no await). */
export class TurnMeter {
  private work = 0;

  constructor(
    private readonly perTurn: number,
    private readonly caller?: string,
    private readonly signal?: AbortSignalLike,
  ) {}

  due(work: number): Promise<void> | undefined {
    if ((this.work += work) <= this.perTurn) return undefined;
    this.work = 0;
    return nextTurn(this.caller, this.signal);
  }
}
