import type { GatewayContext } from '../context';

/** The default resolver answers `null` for a missing property: the field type must accept it. */
export type PropertyValue<T> = undefined extends T ? Exclude<T, undefined> | null : T;

const PROPERTY = Symbol('cse-jobs-gateway.propertyResolver');

export type PropertyResolver<P, K extends keyof P> = ((parent: P) => PropertyValue<P[K]>) & { readonly [PROPERTY]: K };

/** `flavor: own('flavor')`: every field needs a resolver in the maps, so one the model lacks fails
 * the type check. buildGatewaySchema takes those of a field's own name off again: graphql-jit
 * compiles a field without a resolver to a direct property read. */
export function property<P>() {
  return <K extends keyof P & string>(key: K): PropertyResolver<P, K> =>
    Object.assign((parent: P) => (parent[key] ?? null) as PropertyValue<P[K]>, { [PROPERTY]: key }) as PropertyResolver<P, K>;
}

/** `flavor: sent('flavor')`: upstream text, which the operation's budget counts each time it is answered. */
export function sentText<P>() {
  return <K extends keyof P & string>(key: K) =>
    (parent: P, _args: unknown, { budget }: GatewayContext) => budget.sendText((parent[key] ?? null) as PropertyValue<P[K]>);
}

export function propertyOf(resolve: unknown): string | undefined {
  if (typeof resolve !== 'function') return undefined;
  const key = (resolve as { [PROPERTY]?: unknown })[PROPERTY];
  return typeof key === 'string' ? key : undefined;
}
