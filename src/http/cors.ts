import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../config/loadConfig';

/** Apollo Studio, where Sandbox runs when opened at studio.apollographql.com/sandbox. */
const STUDIO_ORIGIN = 'https://studio.apollographql.com';

const ALLOWED_HEADERS =
  'content-type,x-auth-token,x-project-id,x-enterprise-project-id,authorization,apollo-require-preflight,' +
  'x-apollo-operation-name,apollographql-client-name,apollographql-client-version,traceparent,tracestate,x-request-id';

/** The request id, and how long to wait after RATE_LIMITED. */
const EXPOSED_HEADERS = 'x-request-id,retry-after';

const LOCAL_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/;

export interface CorsPolicy {
  /** Exact origins (`scheme://host[:port]`), or `*` for any. */
  readonly origins: readonly string[] | '*';
  /** Any port of LOCAL_ORIGIN's hosts. */
  readonly localOrigins: boolean;
}

/** CORS_ORIGINS, plus Studio's with Sandbox, plus any local port in development, never in production. */
export function corsPolicy({ nodeEnv, http }: Pick<GatewayConfig, 'nodeEnv' | 'http'>): CorsPolicy {
  const configured = http.corsOrigins;
  if (configured === '*') return { origins: '*', localOrigins: false };
  const allowStudio = nodeEnv === 'development' || http.explorer === 'sandbox';
  return {
    origins: allowStudio && !configured.includes(STUDIO_ORIGIN) ? [...configured, STUDIO_ORIGIN] : [...configured],
    localOrigins: nodeEnv === 'development',
  };
}

export function originAllowedBy(policy: CorsPolicy, origin: string): boolean {
  if (policy.origins === '*') return true;
  return policy.origins.includes(origin) || (policy.localOrigins && LOCAL_ORIGIN.test(origin));
}

/**
 * The `cors` package's headers on every response; `true` when it answered a preflight. No
 * `Access-Control-Allow-Credentials`: the gateway authenticates by header only.
 */
export function createCorsHandler(policy: CorsPolicy): (request: IncomingMessage, response: ServerResponse) => boolean {
  return (request, response) => {
    const origin = request.headers.origin;
    if (policy.origins === '*') response.setHeader('Access-Control-Allow-Origin', '*');
    else {
      if (origin && originAllowedBy(policy, origin)) response.setHeader('Access-Control-Allow-Origin', origin);
      response.setHeader('Vary', 'Origin');
    }
    response.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (request.method?.toUpperCase() !== 'OPTIONS') return false;
    response.setHeader('Access-Control-Allow-Methods', 'GET,POST,OPTIONS');
    response.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    response.setHeader('Access-Control-Max-Age', '600');
    // Some browsers wait for the body of a 204 without a Content-Length.
    response.statusCode = 204;
    response.setHeader('Content-Length', '0');
    response.end();
    return true;
  };
}
