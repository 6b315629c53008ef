import type { IncomingMessage } from 'node:http';
import { credentialDigest, type CallerCredentials } from './scopeKey';

/** The caller's credentials; throws (or returns undefined) when it has none usable. */
export type CredentialsOf = (request: IncomingMessage) => CallerCredentials | undefined;

/** `undefined` when the credentials do not parse: Apollo refuses it, never with another's result. */
export function requestKey(credentialsOf: CredentialsOf, request: IncomingMessage, search: string, bodyText: string): string | undefined {
  let credentials: CallerCredentials | undefined;
  try {
    credentials = credentialsOf(request);
  } catch {
    return undefined;
  }
  if (credentials === undefined) return undefined;
  const type = request.headers['content-type'] ?? '';
  const accept = request.headers.accept ?? '';
  // Length-prefixed fields (the body last), so no two requests share a key; no hashing on a hit's path.
  const fields = `${search.length}:${search}${type.length}:${type}${accept.length}:${accept}`;
  return `${credentialDigest(credentials)} ${request.method ?? 'GET'} ${fields} ${bodyText}`;
}
