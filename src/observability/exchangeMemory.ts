/** The parts of Apollo's request context that hold an operation's data. */
export interface HeldRequestContext {
  readonly contextValue: object;
  readonly response: { body?: unknown };
}

/**
 * Lets go of what Apollo's request context still reaches once the HTTP exchange has ended: our
 * context as Apollo copied it (loaders, their pages) and the execution result. Apollo's view of
 * each request is an object with accessors of its own, which V8 keeps reachable for young
 * collections until a full one, so all it reached was promoted (test/memory guards it). Fields
 * are set to `undefined`, not deleted, which keeps the objects' shapes stable.
 */
export class ExchangeMemory {
  private readonly held: HeldRequestContext[] = [];

  /** Remembers an operation's request context (a batched HTTP request has several). */
  hold(requestContext: HeldRequestContext): void {
    this.held.push(requestContext);
  }

  /** Called once, when the HTTP exchange has ended. */
  release(): void {
    for (const requestContext of this.held) {
      const context = requestContext.contextValue as Record<string, unknown>;
      for (const key of Object.keys(context)) context[key] = undefined;
      requestContext.response.body = undefined;
    }
    this.held.length = 0;
  }
}
