import type { IncomingMessage } from 'node:http';
import { scopeKey } from '../upstream/cache/scopeKey';
import type { Credentials } from '../upstream/credentials';

/** The caller's credentials; throws (or returns undefined) when it has none usable. */
export type CredentialsOf = (request: IncomingMessage) => Credentials | undefined;

/**
 * The key under which one whole HTTP answer may serve another request (the response cache, the
 * in-flight coalescing): a SHA-256 of the credential scope (token, project, enterprise project)
 * and of the request as sent — method, query string, `content-type` (it decides whether the body
 * is read as JSON), `accept` (the response's media type) and the raw body. Two tokens never share
 * an answer. `undefined` when the credentials do not parse: Apollo's context factory refuses
 * such a request with its own error, so it must never be answered with another's result.
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
  return scopeKey(credentials, requestText);
}
