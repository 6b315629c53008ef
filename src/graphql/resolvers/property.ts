/**
 * What graphql-js's default resolver makes of a missing property (`undefined` answers `null`), as
 * a type: the declared field type must accept `null` wherever the model's property is optional.
 */
export type PropertyValue<T> = undefined extends T ? Exclude<T, undefined> | null : T;

const PROPERTY = Symbol('cse-jobs-gateway.propertyResolver');

/** A resolver made by {@link property}: marked with the property it reads. */
export type PropertyResolver<P, K extends keyof P> = ((parent: P) => PropertyValue<P[K]>) & { readonly [PROPERTY]: K };

/**
 * The resolver of a field whose value is its parent's property of the same name, e.g.
 * `flavor: own('flavor')` with `const own = property<CseEngine>()`.
 *
 * Why not leave the field without a resolver: every field must have one in the resolver maps
 * (codegen `avoidOptionals`), so a schema field the upstream model lacks fails the type check —
 * `property` only accepts a key of the parent model, with a type the field accepts. Why the mark:
 * a plain property read is what graphql's default resolver does, and graphql-jit compiles a field
 * without a resolver to a direct property read instead of a function call per object. So
 * {@link withPlainPropertiesDefault} takes these resolvers off the built schema again, where the key
 * is the field's own name (a resolver reading another property stays: it is a real translation).
 */
export function property<P>() {
  return <K extends keyof P & string>(key: K): PropertyResolver<P, K> =>
    Object.assign((parent: P) => (parent[key] ?? null) as PropertyValue<P[K]>, { [PROPERTY]: key }) as PropertyResolver<P, K>;
}

/** The property a resolver made by {@link property} reads, or `undefined` for any other resolver. */
export function propertyOf(resolve: unknown): string | undefined {
  if (typeof resolve !== 'function') return undefined;
  const key = (resolve as { [PROPERTY]?: unknown })[PROPERTY];
  return typeof key === 'string' ? key : undefined;
}
