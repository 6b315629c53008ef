import type { IncomingHttpHeaders } from 'node:http';
import { originAllowedBy, type CorsPolicy } from '../http/cors';
import { IDENTITY_HEADERS as HEADER_NAMES, type HeaderLookup } from '../http/identity';

const IDENTITY_HEADERS: ReadonlySet<string> = new Set(HEADER_NAMES);

/**
 * A connection's identity headers: the `connection_init` payload's (top-level keys, or under
 * `headers`; names in any case), then the upgrade request's. Browsers cannot set headers on a
 * WebSocket, so their token comes in the payload.
 */
export function connectionHeaders(
  params: Readonly<Record<string, unknown>> | undefined,
  upgrade: IncomingHttpHeaders,
): HeaderLookup {
  const given = new Map<string, string>();
  const nested = params?.headers;
  // Top-level keys win: they are what the gateway documents.
  for (const source of [typeof nested === 'object' && !Array.isArray(nested) ? nested : null, params]) {
    for (const [key, value] of Object.entries(source ?? {})) {
      const name = key.toLowerCase();
      if (typeof value === 'string' && IDENTITY_HEADERS.has(name)) given.set(name, value);
    }
  }
  return (name) => {
    const header = given.get(name) ?? upgrade[name];
    return Array.isArray(header) ? header[0] : header;
  };
}

/**
 * Whether a WebSocket upgrade may proceed, by its `Origin`: CORS does not apply to WebSockets
 * (cross-site WebSocket hijacking), so the origins CORS allows and the gateway's own host. A
 * client without Origin is no browser: it holds its own token, nothing ambient to abuse.
 */
export function originAllowed(policy: CorsPolicy, origin?: string, host?: string): boolean {
  if (origin === undefined || originAllowedBy(policy, origin)) return true;
  if (host === undefined || !URL.canParse(origin)) return false;
  const url = new URL(origin);
  // `http(s)://<host>` where `<host>` is the Host header, exactly (port included).
  const web = url.protocol === 'http:' || url.protocol === 'https:';
  return web && url.host === host.toLowerCase() && url.origin === origin.toLowerCase();
}
