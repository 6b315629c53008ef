/** The parts of Apollo's request context that hold an operation's data. */
export interface HeldRequestContext {
  readonly contextValue: object;
  readonly response: { body?: unknown };
}

/**
 * Lets go of what Apollo's request context of an operation still reaches once its HTTP exchange
 * has ended: our context as Apollo copied it (loaders, their upstream pages, connections) and the
 * execution result.
 *
 * Why it is needed: our executor runs through Apollo's gateway interface (see
 * operationExecutor), and for every operation Apollo builds the gateway's view of the request as
 * an object literal with a getter and a setter of its own (`response.http.status`). V8 gives an
 * object with fresh accessors a hidden class of its own, reachable from the shared one through a
 * transition that only a full (mark-compact) collection clears; young-generation collections
 * treat it as strong. So that object, the request context its accessors close over, and everything
 * reachable from it survived every young collection and were copied into the old generation,
 * where only the next full collection freed them. On the cold-page benchmark that was most of the
 * operation's memory: about 40 KB per operation promoted, and the scavenges that copied it were
 * the largest part of the gateway's garbage collection time (`--trace-gc-nvp`, see test/memory).
 *
 * Nothing reads these after the exchange: Apollo has serialised the result, and the HTTP server
 * works with its own reference to the context. Fields are set to `undefined` rather than deleted,
 * which keeps the objects' shapes stable.
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
      (requestContext.response as { body?: unknown }).body = undefined;
    }
    this.held.length = 0;
  }
}
