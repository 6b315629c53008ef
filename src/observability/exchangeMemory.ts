/** The parts of Apollo's request context that hold an operation's data. */
export interface HeldRequestContext {
  readonly contextValue: object;
  readonly response: { body?: unknown };
}

/**
 * Lets go of what Apollo's request context still reaches once the HTTP exchange has ended: our
 * context as Apollo copied it (loaders, their pages) and the execution result.
 *
 * Why: Apollo builds the gateway interface's view of each request as an object literal with
 * accessors of its own; V8 reaches such an object's hidden class through a transition that only a
 * full collection clears, so everything it closes over survived young collections and was
 * promoted (test/memory guards it). Nothing reads these after the exchange. Fields are set to
 * `undefined` rather than deleted, which keeps the objects' shapes stable.
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
