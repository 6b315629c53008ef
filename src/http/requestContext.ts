import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { OperationBound } from './httpServer';
import { credentialsFromHeaders, IDENTITY_HEADERS } from './identity';
import { requestRecordOf, tagError } from '../observability/requestRecord';
import type { Credentials } from '../upstream/credentials';
import { GatewayError } from '../errors/GatewayError';
import { createContext, type ContextServices, type GatewayContext } from '../graphql/context';

/** Stand-in credentials of a caller refused (see contextFor): never sent, never cached under. */
const NO_CREDENTIALS: Credentials = Object.freeze({ token: '', projectId: '', enterpriseProjectId: undefined });

/** Everything caller-specific, made from the HTTP request: its credentials, and each operation's context. */
export function createRequestContextFactory(services: ContextServices, defaultProjectId: string | undefined) {
  const lastOnConnection = new WeakMap<Socket, { sent: unknown[]; credentials: Credentials }>();
  /**
   * Throws the GatewayError that refuses the request. A keep-alive client sends the same headers
   * every time: its connection's last credentials (one object, one digest) serve while they match.
   */
  const credentialsOf = (request: IncomingMessage): Credentials => {
    const last = lastOnConnection.get(request.socket);
    const same = last?.sent.every((value, i) => value === request.headers[IDENTITY_HEADERS[i]!]);
    if (same === true) return last!.credentials;
    const credentials = credentialsFromHeaders((name) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    }, defaultProjectId);
    // Refusals are not kept: asked again, they throw again.
    const sent = IDENTITY_HEADERS.map((name) => request.headers[name]);
    lastOnConnection.set(request.socket, { sent, credentials });
    return credentials;
  };
  /** The context of one GraphQL operation of the request, bounded by `bound`. */
  const contextFor = async (request: IncomingMessage, { signal, deadline }: OperationBound): Promise<GatewayContext> => {
    const record = requestRecordOf(request);
    let credentials = NO_CREDENTIALS;
    let refused: GatewayError | undefined;
    try {
      credentials = credentialsOf(request);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      // The refusal waits for the operation (a schema-only one needs no token: codegen, IDEs);
      // meanwhile no upstream call can be made with the stand-in credentials: the refusal ends
      // any at once (see refusalStage).
      if (record !== undefined) tagError(error, record.requestId);
      refused = error;
    }
    // The operation's own event sink (its facts' counts, debug lines) and trace headers for the upstream.
    const { events, propagate } = record?.telemetry ?? {};
    const refusal = refused === undefined ? {} : { error: refused };
    return createContext(services, { credentials, signal, deadline, events, propagate, refusal }, record, refused);
  };
  return { credentialsOf, contextFor };
}
