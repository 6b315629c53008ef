/** Placeholder until the context factory lands. */
export interface GatewayContext {
  readonly placeholder?: never;
}
