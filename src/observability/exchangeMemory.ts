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
 * where only the next full collection freed them: most of each operation's memory, copied by
 * scavenges (test/memory guards it; the figures are in bench/README.md).
 *
 * Nothing reads these after the exchange: Apollo has serialised the result, and the HTTP server
 * works with its own reference to the context. Fields are set to `undefined` rather than deleted,
 * which keeps the objects' shapes stable.
 */
export class ExchangeMemory {
  private readonly held: HeldRequestContext[] = [];

  /**
   * `guard` (tests: `NODE_ENV=test`): a released field is not `undefined` but throws when read, so
   * code that reads a context after its exchange ended — which the release would silently break —
   * fails loudly. Off in production: getters on a per-operation object are exactly what would keep
   * it alive for young collections.
   */
  constructor(private readonly guard = false) {}

  /** Remembers an operation's request context (a batched HTTP request has several). */
  hold(requestContext: HeldRequestContext): void {
    this.held.push(requestContext);
  }

  /** Called once, when the HTTP exchange has ended. */
  release(): void {
    for (const requestContext of this.held) {
      const context = requestContext.contextValue as Record<string, unknown>;
      for (const key of Object.keys(context)) {
        if (this.guard) Object.defineProperty(context, key, { get: released(`context.${key}`), configurable: true });
        else context[key] = undefined;
      }
      if (this.guard) Object.defineProperty(requestContext.response, 'body', { get: released('response.body'), configurable: true });
      else (requestContext.response as { body?: unknown }).body = undefined;
    }
    this.held.length = 0;
  }
}

function released(what: string): () => never {
  return () => {
    throw new Error(`ExchangeMemory: ${what} of an operation was read after its HTTP exchange ended (and was released).`);
  };
}
