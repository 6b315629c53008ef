import { createHash } from 'node:crypto';
import type { Credentials } from '../credentials';

/**
 * The key under which an upstream answer may be shared (single flight) or reused (cache): a
 * SHA-256 of everything that decides what the upstream answers — the caller's token, project,
 * enterprise project, and the full request URL. Two tokens never share an answer, even for the
 * same project: the upstream may let them see different things.
 *
 * Only the digest is kept, so no map, log line or heap snapshot holds the raw token as a key.
 * The fields go in as a JSON array, which is unambiguous: no two different tuples concatenate to
 * the same text.
 */
export function scopeKey(credentials: Credentials, url: string): string {
  const tuple = JSON.stringify([credentials.token, credentials.projectId, credentials.enterpriseProjectId ?? null, url]);
  return createHash('sha256').update(tuple).digest('hex');
}
