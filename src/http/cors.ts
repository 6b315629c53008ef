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

/** One `Vary` among the response's own headers: a second `setHeader` of it would replace the first. */
export function varyOn(own: string[], names: string): void {
  const at = own.findIndex((value, i) => i % 2 === 0 && value === 'Vary');
  if (at < 0) own.push('Vary', names);
  else own[at + 1] += `, ${names}`;
}

/** The `cors` package's headers, added to the response's own (written with its answer); `true` when it
 * answered a preflight. No `Access-Control-Allow-Credentials`: the gateway authenticates by header only. */
export function createCorsHandler(policy: CorsPolicy) {
  return (request: IncomingMessage, response: ServerResponse, own: string[]): boolean => {
    const origin = request.headers.origin;
    if (policy.origins === '*') own.push('Access-Control-Allow-Origin', '*');
    else {
      if (origin && originAllowedBy(policy, origin)) own.push('Access-Control-Allow-Origin', origin);
      varyOn(own, 'Origin');
    }
    own.push('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (request.method !== 'OPTIONS') return false;
    own.push('Access-Control-Allow-Methods', 'GET,POST,OPTIONS', 'Access-Control-Allow-Headers', ALLOWED_HEADERS);
    // Some browsers wait for the body of a 204 without a Content-Length.
    own.push('Access-Control-Max-Age', '600', 'Content-Length', '0');
    response.writeHead(204, own).end();
    return true;
  };
}
