import type { CallerCredentials } from '../cache/scopeKey';

/** From the caller's own headers, forwarded as is: the gateway has no token, and never shares one. */
export type Credentials = CallerCredentials;
