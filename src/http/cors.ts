import cors from 'cors';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Apollo Studio, where Sandbox runs when opened at studio.apollographql.com/sandbox. */
export const STUDIO_ORIGIN = 'https://studio.apollographql.com';

/**
 * Request headers a browser may send cross-origin: the gateway's identity headers, what GraphQL
 * clients send, and what Apollo's tools add (CSRF preflight marker, operation name, client
 * awareness). Header names are case-insensitive; browsers ask in lower case.
 */
export const CORS_ALLOWED_HEADERS: readonly string[] = [
  'content-type',
  'x-auth-token',
  'x-project-id',
  'x-enterprise-project-id',
  'authorization',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'apollographql-client-name',
  'apollographql-client-version',
];

export interface CorsPolicy {
  /** Exact origins allowed (`scheme://host[:port]`), or `*` for any. */
  readonly origins: readonly string[] | '*';
}

/** The allowed origins: CORS_ORIGINS, plus Studio in development or when Sandbox is enabled. */
export function corsPolicy(configured: readonly string[] | '*', allowStudio: boolean): CorsPolicy {
  if (configured === '*') return { origins: '*' };
  return { origins: allowStudio && !configured.includes(STUDIO_ORIGIN) ? [...configured, STUDIO_ORIGIN] : [...configured] };
}

/** Answers a CORS request: resolves `true` when the response is already complete (a preflight). */
export type CorsHandler = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

/**
 * CORS headers on every response, and preflights answered directly (204), by the `cors`
 * package. No `Access-Control-Allow-Credentials`: the gateway authenticates by header, never by
 * cookie, so a browser must never attach cookies to a cross-origin call.
 */
export function createCorsHandler(policy: CorsPolicy): CorsHandler {
  const middleware = cors({
    origin: policy.origins === '*' ? '*' : [...policy.origins],
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: [...CORS_ALLOWED_HEADERS],
    credentials: false,
    maxAge: 600,
  });
  return (request, response) =>
    new Promise<boolean>((resolve, reject) => {
      middleware(request, response, (error?: unknown) => (error ? reject(error) : resolve(false)));
      // A preflight is ended by the middleware (synchronously, with static options) and never
      // reaches `next`.
      if (response.writableEnded) resolve(true);
    });
}
