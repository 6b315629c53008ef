import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { OperationBound } from './httpServer';
import { credentialsFromHeaders, IDENTITY_HEADERS } from './identity';
import { addressKey } from './addressKey';
import { requestRecordOf, tagError } from '../observability/requestRecord';
import type { Credentials } from '../upstream/credentials';
import { GatewayError } from '../errors/GatewayError';
import { createContext, type ContextServices, type GatewayContext } from '../graphql/context';
import { callerDigest } from '../cache/scopeKey';
import { throwClassified } from '../upstream/errorMapping';
import { nextTurn, requestPlace } from '../upstream/turns';
import { callerLeft } from './answerText';

/** A refused caller's stand-in: never sent, never cached under. */
const NO_CREDENTIALS: Credentials = Object.freeze({ token: '', projectId: '', enterpriseProjectId: undefined });

export function createRequestContextFactory(services: ContextServices, defaultProjectId: string | undefined) {
  const lastOnConnection = new WeakMap<Socket, { sent: unknown[]; credentials: Credentials }>();
  /** Throws the refusal. A connection's last credentials serve while its identity headers match. */
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
  const contextFor = async (request: IncomingMessage, { signal, deadline }: OperationBound): Promise<GatewayContext> => {
    const record = requestRecordOf(request);
    let credentials = NO_CREDENTIALS;
    let refused: GatewayError | undefined;
    try {
      credentials = credentialsOf(request);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      // Thrown once the operation is known (schema-only needs no token: codegen, IDEs); an upstream call
      // with the stand-in credentials ends at once (refusalStage).
      if (record !== undefined) tagError(error, record.requestId);
      refused = error;
    }
    const { events, propagate } = record?.telemetry ?? {};
    const refusal = refused === undefined ? {} : { error: refused };
    // The stranger's part its address holds in the upstream limits (as its connections, per address).
    const address = addressKey(request.socket.remoteAddress ?? '');
    // Apollo parses, validates and runs the document once the context is made, in the caller's next turn:
    // not in the callback that read the request, so a caller's flood of new documents waits in its own
    // place in the rounds while other callers' requests are read, and connections waiting to be accepted
    // taken in; one whose caller left meanwhile costs no more. One whose time is up still has its turn and
    // is answered as any other past its time (its fields UPSTREAM_TIMEOUT), not with a failed request.
    const place = requestPlace(callerDigest(credentials), services.http.isStranger(credentials), address);
    try {
      await nextTurn(place, signal);
    } catch (reason) {
      if (callerLeft(signal)) throwClassified(reason);
      await nextTurn(place);
    }
    return createContext(services, { credentials, address, signal, deadline, events, propagate, refusal }, record, refused);
  };
  return { credentialsOf, contextFor };
}
