import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../config/loadConfig';

/** Apollo Studio, where Sandbox runs when opened at studio.apollographql.com/sandbox. */
const STUDIO_ORIGIN = 'https://studio.apollographql.com';

/** Request headers a browser may send cross-origin: identity, GraphQL clients' and Apollo's tools'. */
const CORS_ALLOWED_HEADERS: readonly string[] = [
  'content-type',
  'x-auth-token',
  'x-project-id',
  'x-enterprise-project-id',
  'authorization',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'apollographql-client-name',
  'apollographql-client-version',
  // W3C trace context from browser tracing (OpenTelemetry web), and the caller's own request id.
  'traceparent',
  'tracestate',
  'x-request-id',
];

/** Response headers browser code may read: the request id, and how long to wait after RATE_LIMITED. */
const CORS_EXPOSED_HEADERS: readonly string[] = ['x-request-id', 'retry-after'];

/** Any port of the local machine, for a development server; in development only. */
const LOCAL_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/;

export interface CorsPolicy {
  /** Exact origins allowed (`scheme://host[:port]`), or `*` for any. */
  readonly origins: readonly string[] | '*';
  /** Whether any port of localhost / 127.0.0.1 / [::1] is allowed too (development only). */
  readonly localOrigins: boolean;
}

/**
 * The allowed origins: CORS_ORIGINS, plus Studio's origin with Sandbox (in development or when
 * Sandbox is enabled), plus any port of the local machine in development, never in production.
 */
export function corsPolicy({ nodeEnv, http }: Pick<GatewayConfig, 'nodeEnv' | 'http'>): CorsPolicy {
  const configured = http.corsOrigins;
  if (configured === '*') return { origins: '*', localOrigins: false };
  const allowStudio = nodeEnv === 'development' || http.explorer === 'sandbox';
  return {
    origins: allowStudio && !configured.includes(STUDIO_ORIGIN) ? [...configured, STUDIO_ORIGIN] : [...configured],
    localOrigins: nodeEnv === 'development',
  };
}

/** Whether the policy allows `origin` (an exact entry, or a local one when those are on). */
export function originAllowedBy(policy: CorsPolicy, origin: string): boolean {
  if (policy.origins === '*') return true;
  return policy.origins.includes(origin) || (policy.localOrigins && LOCAL_ORIGIN.test(origin));
}

/**
 * CORS headers (the `cors` package's) on every response; `true` when it answered a preflight.
 * No `Access-Control-Allow-Credentials`: the gateway authenticates by header only.
 */
export function createCorsHandler(policy: CorsPolicy): (request: IncomingMessage, response: ServerResponse) => boolean {
  const allowedHeaders = CORS_ALLOWED_HEADERS.join(',');
  const exposedHeaders = CORS_EXPOSED_HEADERS.join(',');
  return (request, response) => {
    const origin = request.headers.origin;
    if (policy.origins === '*') response.setHeader('Access-Control-Allow-Origin', '*');
    else {
      if (origin && originAllowedBy(policy, origin)) response.setHeader('Access-Control-Allow-Origin', origin);
      response.setHeader('Vary', 'Origin');
    }
    if (request.method?.toUpperCase() !== 'OPTIONS') {
      response.setHeader('Access-Control-Expose-Headers', exposedHeaders);
      return false;
    }
    response.setHeader('Access-Control-Allow-Methods', 'GET,POST,OPTIONS');
    response.setHeader('Access-Control-Allow-Headers', allowedHeaders);
    response.setHeader('Access-Control-Max-Age', '600');
    response.setHeader('Access-Control-Expose-Headers', exposedHeaders);
    // Some browsers wait for the body of a 204 without a Content-Length.
    response.statusCode = 204;
    response.setHeader('Content-Length', '0');
    response.end();
    return true;
  };
}
