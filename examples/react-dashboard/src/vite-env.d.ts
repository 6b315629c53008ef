/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The gateway's GraphQL endpoint; unset: `/graphql` on the page's origin (proxied, see vite.config.ts). */
  readonly VITE_GATEWAY_URL?: string;
  /** The token the page starts with; unset: the simulator's demo token. */
  readonly VITE_CSE_TOKEN?: string;
}
