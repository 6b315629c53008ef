import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderLookup } from '../http/identity';

/** The identity headers a connection_init payload may carry (any case). */
const IDENTITY_HEADERS = ['x-auth-token', 'authorization', 'x-project-id', 'x-enterprise-project-id'] as const;

/**
 * The header lookup of one WebSocket connection: the `connection_init` payload's identity headers
 * first (top-level keys, or under `headers`; names in any case), then the upgrade request's own.
 * Browsers cannot set headers on a WebSocket, so their token comes in the payload.
 */
export function connectionHeaders(params: Readonly<Record<string, unknown>> | undefined, upgrade: IncomingHttpHeaders): HeaderLookup {
  const fromParams = new Map<string, string>();
  const nested = params?.headers;
  if (isRecord(nested)) collect(nested, fromParams);
  // Top-level keys win: they are what the gateway documents.
  if (params !== undefined) collect(params, fromParams);
  return (name) => {
    const given = fromParams.get(name);
    if (given !== undefined) return given;
    const header = upgrade[name];
    return Array.isArray(header) ? header[0] : header;
  };
}

function collect(source: Readonly<Record<string, unknown>>, into: Map<string, string>): void {
  for (const key of Object.keys(source)) {
    const name = key.toLowerCase();
    const value = source[key];
    if (typeof value === 'string' && (IDENTITY_HEADERS as readonly string[]).includes(name)) into.set(name, value);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
