import Negotiator from 'negotiator';

export const JSON_MEDIA_TYPE = 'application/json; charset=utf-8';
export const GRAPHQL_RESPONSE_MEDIA_TYPE = 'application/graphql-response+json; charset=utf-8';

/** The media type a single result is answered in for this `Accept`, chosen as Apollo chooses it (JSON
 * first on a tie, and without an `Accept`): the gateway's own answers match Apollo's. */
export function answerMediaType(accept: string | undefined): string {
  if (!accept) return JSON_MEDIA_TYPE;
  return new Negotiator({ headers: { accept } }).mediaType([JSON_MEDIA_TYPE, GRAPHQL_RESPONSE_MEDIA_TYPE]) ?? JSON_MEDIA_TYPE;
}
