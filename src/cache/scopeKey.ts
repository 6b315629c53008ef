import { hash } from 'node:crypto';

/** What of a caller's credentials decides what the upstream answers it. */
export interface CallerCredentials {
  /** Forwarded as `X-Auth-Token`; never logged, never echoed. */
  readonly token: string;
  readonly projectId: string;
  readonly enterpriseProjectId: string | undefined;
}

const digests = new WeakMap<CallerCredentials, string>();

// SHA-256 of the credentials as a JSON array (unambiguous): no map, log or heap snapshot keys on a token.
export function credentialDigest(credentials: CallerCredentials): string {
  let digest = digests.get(credentials);
  if (digest === undefined) {
    const tuple = JSON.stringify([credentials.token, credentials.projectId, credentials.enterpriseProjectId ?? null]);
    digest = hash('sha256', tuple, 'hex');
    digests.set(credentials, digest);
  }
  return digest;
}

/** The caller whose shares a request counts in: its token, whatever project and enterprise project it
 * names (the upstream answers a real token's made-up project 403, which accepts the token). */
export function callerDigest(credentials: CallerCredentials): string {
  let digest = callers.get(credentials);
  if (digest === undefined) callers.set(credentials, (digest = hash('sha256', JSON.stringify(['caller', credentials.token]), 'hex')));
  return digest;
}

const callers = new WeakMap<CallerCredentials, string>();

/** The key an upstream answer is shared (single flight) and kept (cache) under. */
export function scopeKey(credentials: CallerCredentials, url: string): string {
  return `${credentialDigest(credentials)} ${url}`;
}
