import { subscribe } from 'node:diagnostics_channel';
import type { AbortSignalLike } from '../cache/abort';
import { STRANGERS } from '../cache/callerShares';

/**
 * Turns of the event loop, taken in rounds: each round (a pass of the loop) hands one turn to each waiter
 * that names a caller, however many steps that caller has waiting. Long work on upstream answers lets other
 * requests run between its steps, and one caller's many operations share one caller's place in the rounds:
 * another caller's request waits behind one step of each caller, not one step of each of their operations.
 * The loop accepts one connection per pass: while passes keep accepting, the round waits for them.
 */
class TurnRounds {
  /** Steps waiting, per caller, in the order the callers came; a key of its own for a step that names none. */
  private readonly waiting = new Map<unknown, Array<() => void>>();
  private scheduled = false;
  /** A connection was accepted since the last round, and how many passes the round has let go for them. */
  private accepted = false;
  private passesLetGo = 0;

  /** Called for every connection accepted: libuv accepts one per pass of the event loop. */
  connectionAccepted(): void {
    this.accepted = true;
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
    // A pass that accepted a connection may have left more waiting in the listen queue, and a pass without
    // a round is short: the round lets passes go while they keep accepting (a bounded number of them), so
    // connections new to the process are not held behind the steps' work, one accepted per round.
    if (this.accepted && this.passesLetGo < PASSES_FOR_CONNECTIONS) {
      this.accepted = false;
      this.passesLetGo += 1;
      setImmediate(this.round);
      return;
    }
    this.accepted = false;
    this.passesLetGo = 0;
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

/** At most this many passes between two rounds: a flood of connections still leaves the steps their turns. */
const PASSES_FOR_CONNECTIONS = 16;

const rounds = new TurnRounds();

// Every connection any server of this process accepts (the gateway's, the metrics port's, an embedded
// simulator's): they share the loop, and so its one accept per pass.
subscribe('net.server.socket', () => rounds.connectionAccepted());

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
 * Where a request's document (over HTTP or a WebSocket) waits for its turn to be parsed and run: its caller's
 * place (`callerDigest`); callers the upstream has not accepted share one place per address (`addressKey`),
 * so that made-up tokens are not a place each.
 */
export const requestPlace = (caller: string, stranger: boolean, address: string): string => (stranger ? `${STRANGERS} ${address}` : caller);

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
