import { hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { credentialDigest } from '../upstream/cache/scopeKey';
import type { Credentials } from '../upstream/credentials';

/** The caller's credentials; throws (or returns undefined) when it has none usable. */
export type CredentialsOf = (request: IncomingMessage) => Credentials | undefined;

/**
 * The key under which one whole HTTP answer may serve another request in flight at the same time
 * (coalescing): the caller's credential digest (token, project, enterprise project: see
 * `credentialDigest`; two tokens never share an answer) and the request as sent — method, query
 * string, `content-type` (it decides whether the body is read as JSON), `accept` (the response's
 * media type) and the raw body. Not hashed: it lives only while the request does, as its body
 * does. `undefined` when the credentials do not parse: Apollo's context factory refuses such a
 * request with its own error, so it must never be answered with another's result.
 */
export function requestKey(credentialsOf: CredentialsOf, request: IncomingMessage, search: string, bodyText: string): string | undefined {
  let credentials: Credentials | undefined;
  try {
    credentials = credentialsOf(request);
  } catch {
    return undefined;
  }
  if (credentials === undefined) return undefined;
  const requestText = JSON.stringify([request.method ?? 'GET', search, request.headers['content-type'] ?? '', request.headers.accept ?? '', bodyText]);
  return `${credentialDigest(credentials)} ${requestText}`;
}

/**
 * {@link requestKey} for entries kept beyond the request (the whole-response cache): its SHA-256,
 * so a stored key is 64 characters whatever the body's size.
 */
export function storedRequestKey(credentialsOf: CredentialsOf, request: IncomingMessage, search: string, bodyText: string): string | undefined {
  const key = requestKey(credentialsOf, request, search, bodyText);
  return key === undefined ? undefined : hash('sha256', key, 'hex');
}
