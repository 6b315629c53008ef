import type { IncomingMessage } from 'node:http';
import { credentialDigest, type CallerCredentials } from './scopeKey';

/** The caller's credentials; throws (or returns undefined) when it has none usable. */
export type CredentialsOf = (request: IncomingMessage) => CallerCredentials | undefined;

/** `undefined` when they do not parse: Apollo refuses the request, never with another's result. */
export function readCredentials(credentialsOf: CredentialsOf, request: IncomingMessage): CallerCredentials | undefined {
  try {
    return credentialsOf(request);
  } catch {
    return undefined;
  }
}

export function requestKey(credentials: CallerCredentials, request: IncomingMessage, search: string, bodyText: string): string {
  const type = request.headers['content-type'] ?? '';
  const accept = request.headers.accept ?? '';
  // Length-prefixed fields (the body last), so no two requests share a key; no hashing on a hit's path.
  const fields = `${search.length}:${search}${type.length}:${type}${accept.length}:${accept}`;
  return `${credentialDigest(credentials)} ${request.method ?? 'GET'} ${fields} ${bodyText}`;
}
