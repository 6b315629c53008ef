import { originAllowedBy, type CorsPolicy } from '../http/cors';

/**
 * Whether a WebSocket upgrade may proceed, by its `Origin`. Browsers send cookies and ambient
 * credentials with a cross-site WebSocket and CORS does not apply to it (cross-site WebSocket
 * hijacking), so the gateway decides itself: the origins CORS allows (CORS_ORIGINS, Studio when
 * Sandbox is on, any local port in development), and the page the gateway serves itself (an Origin whose host is the
 * request's Host). A client that sends no Origin is not a browser (a server-side client, a
 * router) and is allowed: it holds its own token, nothing ambient to abuse.
 */
export function createOriginCheck(policy: CorsPolicy): (origin: string | undefined, host: string | undefined) => boolean {
  return (origin, host) => {
    if (origin === undefined) return true;
    if (originAllowedBy(policy, origin)) return true;
    return host !== undefined && sameHost(origin, host);
  };
}

/** `http(s)://<host>` where `<host>` is the Host header, exactly (port included). */
function sameHost(origin: string, host: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase() && url.origin === origin.toLowerCase();
}
