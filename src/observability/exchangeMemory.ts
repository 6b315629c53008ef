export interface HeldRequestContext {
  readonly contextValue: object;
  readonly response: { body?: unknown };
}

/**
 * Lets go of our context (loaders, their pages) and the result once the exchange has ended: V8
 * keeps Apollo's request context reachable until a full collection, so all it reached was promoted
 * (test/memory guards it). Fields are set to `undefined`, not deleted: shapes stay stable.
 */
export class ExchangeMemory {
  private readonly held: HeldRequestContext[] = [];

  /** A batched HTTP request has several. */
  hold(requestContext: HeldRequestContext): void {
    this.held.push(requestContext);
  }

  release(): void {
    for (const requestContext of this.held) {
      const context = requestContext.contextValue as Record<string, unknown>;
      for (const key of Object.keys(context)) context[key] = undefined;
      requestContext.response.body = undefined;
    }
    this.held.length = 0;
  }
}
