export interface HeldRequestContext {
  /** `budget`: the operation's, ended first so that no work of it runs on a context let go of. */
  readonly contextValue: object & { readonly budget?: { end(): void } };
  readonly response: { body?: unknown };
}

/** Lets go of our context (loaders, pages) and the result once the exchange ended: V8 keeps Apollo's request
 * context until a full GC, promoting all it reached (test/memory).
 * `undefined`, not deleted: stable shapes. */
export function releaseExchange(held: HeldRequestContext[]): void {
  for (const requestContext of held) {
    requestContext.contextValue.budget?.end();
    const context = requestContext.contextValue as Record<string, unknown>;
    for (const key of Object.keys(context)) context[key] = undefined;
    requestContext.response.body = undefined;
  }
  held.length = 0;
}
