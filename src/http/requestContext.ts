import type { IncomingMessage } from 'node:http';
import type { OperationBound } from './httpServer';
import { credentialsFromHeaders } from './identity';
import { requestRecordOf, tagError } from '../observability/requestRecord';
import type { Credentials } from '../upstream/credentials';
import { GatewayError } from '../errors/GatewayError';
import { createContext, type ContextServices, type GatewayContext } from '../graphql/context';

/** Everything caller-specific, made from the HTTP request: its credentials, and each operation's context. */
export interface RequestContextFactory {
  /**
   * The caller's credentials, read from its headers once per request (kept on the request's
   * record). Throws the GatewayError that refuses the request (no token, a bad project header).
   */
  credentialsOf(request: IncomingMessage): Credentials;
  /** The context of one GraphQL operation of the request, bounded by `bound`. */
  contextFor(request: IncomingMessage, bound: OperationBound): Promise<GatewayContext>;
}

/** Stand-in credentials of a caller refused (see contextFor): never sent, never cached under. */
const NO_CREDENTIALS: Credentials = Object.freeze({ token: '', projectId: '', enterpriseProjectId: undefined });

export function createRequestContextFactory(services: ContextServices, defaultProjectId: string | undefined): RequestContextFactory {
  const credentialsOf = (request: IncomingMessage): Credentials => {
    const record = requestRecordOf<Credentials>(request);
    if (record?.credentials !== undefined) return record.credentials;
    const credentials = credentialsFromHeaders((name) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    }, defaultProjectId);
    // Refusals are not kept: asked again, they throw again.
    if (record !== undefined) record.credentials = credentials;
    return credentials;
  };
  return {
    credentialsOf,
    async contextFor(request, bound) {
      const record = requestRecordOf(request);
      let credentials: Credentials;
      let refused: GatewayError | undefined;
      try {
        credentials = credentialsOf(request);
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        // The refusal waits for the operation (a schema-only one needs no token: codegen, IDEs);
        // meanwhile no upstream call can be made with these stand-in credentials: the refusal
        // ends any at once (see refusalStage).
        if (record !== undefined) tagError(error, record.requestId);
        refused = error;
        credentials = NO_CREDENTIALS;
      }
      const telemetry = record?.telemetry;
      return createContext(
        services,
        // The operation's own event sink (its facts' counts, debug lines) and trace headers for the upstream.
        {
          credentials,
          signal: bound.signal,
          deadline: bound.deadline,
          events: telemetry?.events,
          propagate: telemetry?.propagate,
          refusal: refused === undefined ? {} : { error: refused },
        },
        record,
        refused,
      );
    },
  };
}
