import { originAllowedBy, type CorsPolicy } from '../http/cors';

/**
 * Whether a WebSocket upgrade may proceed, by its `Origin`: CORS does not apply to WebSockets
 * (cross-site WebSocket hijacking), so the gateway allows the origins CORS allows and its own
 * host. A client without Origin is no browser: it holds its own token, nothing ambient to abuse.
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
