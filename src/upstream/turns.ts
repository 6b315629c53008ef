/** One pass of the event loop: long work on an upstream answer lets other callers' requests run between its steps. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Counts work; once a turn's worth is done, `due` hands back a turn to wait for, else nothing (no await). */
export class TurnMeter {
  private work = 0;

  constructor(private readonly perTurn: number) {}

  due(work: number): Promise<void> | undefined {
    if ((this.work += work) <= this.perTurn) return undefined;
    this.work = 0;
    return nextTurn();
  }
}
