import { hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { credentialDigest, type CallerCredentials } from './scopeKey';

/** The caller's credentials; throws (or returns undefined) when it has none usable. */
export type CredentialsOf = (request: IncomingMessage) => CallerCredentials | undefined;

/**
 * The key under which one whole HTTP answer may serve another request: the caller's credential
 * digest and the request as sent (method, query string, `content-type`, `accept`, raw body).
 * `undefined` when the credentials do not parse: Apollo refuses such a request with its own
 * error, so it must never be answered with another's result.
 */
export function requestKey(credentialsOf: CredentialsOf, request: IncomingMessage, search: string, bodyText: string): string | undefined {
  let credentials: CallerCredentials | undefined;
  try {
    credentials = credentialsOf(request);
  } catch {
    return undefined;
  }
  if (credentials === undefined) return undefined;
  const requestText = JSON.stringify([request.method ?? 'GET', search, request.headers['content-type'] ?? '', request.headers.accept ?? '', bodyText]);
  return `${credentialDigest(credentials)} ${requestText}`;
}

/** {@link requestKey} for entries kept beyond the request: hashed, so its length is fixed. */
export function storedRequestKey(credentialsOf: CredentialsOf, request: IncomingMessage, search: string, bodyText: string): string | undefined {
  const key = requestKey(credentialsOf, request, search, bodyText);
  return key === undefined ? undefined : hash('sha256', key, 'hex');
}
