import type { IncomingMessage } from 'node:http';
import type { OperationFacts } from './OperationFacts';
import type { OperationTelemetry } from './OperationTelemetry';

/**
 * What is known of one HTTP request while it is served; every log line of it carries its id.
 * `TCredentials` is the caller's credentials as the layer that reads them types them.
 */
export interface RequestRecord<TCredentials = unknown> {
  readonly requestId: string;
  /** Set for GraphQL requests: what the operation did (see OperationFacts). */
  readonly facts?: OperationFacts;
  /** Set for GraphQL requests: its span, timing and log line. */
  readonly telemetry?: OperationTelemetry;
  /** Set for GraphQL requests: what Apollo keeps of the operation, released when the exchange ends. */
  readonly memory?: { hold(requestContext: object): void };
  /**
   * The caller's credentials, once read from the headers (see requestContext): read once per
   * request, by the request key and then the context, so their digest is computed once too.
   */
  credentials?: TCredentials;
}

/**
 * The record of each request being served, kept on the request itself (or, where a hook only
 * sees an error, found from the error: see {@link tagError}).
 *
 * Deliberately not an AsyncLocalStorage: on Node 20 one store turns on async hooks for every
 * promise the process makes, which graphql execution, DataLoader and undici make by the thousand
 * (its cost is in bench/README.md, "Measured reasons"). So the record is passed explicitly: the
 * context carries it, log lines written for a request name its id, and hooks that get neither
 * find it here.
 */
// A symbol-keyed property of the request, not a WeakMap: one WeakMap entry per request is one
// more ephemeron for every young-generation collection to process (see mapping/job's jobTasks).
const RECORD = Symbol('cse-jobs-gateway.requestRecord');
type RecordedRequest = IncomingMessage & { [RECORD]?: RequestRecord };
// Errors are rare: a WeakMap is fine for them, and errors may be frozen.
const errorRequestIds = new WeakMap<object, string>();

export function setRequestRecord(request: IncomingMessage, record: RequestRecord): void {
  (request as RecordedRequest)[RECORD] = record;
}

/** The record `observeRequests` gave this request, if any. */
export function requestRecordOf<TCredentials = unknown>(request: IncomingMessage): RequestRecord<TCredentials> | undefined {
  return (request as RecordedRequest)[RECORD] as RequestRecord<TCredentials> | undefined;
}

/**
 * Marks an error as raised while serving the request `requestId`, for code that later sees only
 * the error (Apollo's `formatError`), so its log line can name the request.
 */
export function tagError(error: unknown, requestId: string): void {
  if (typeof error === 'object' && error !== null) errorRequestIds.set(error, requestId);
}

/** The request an error was raised for (see {@link tagError}); also looks at its `originalError`. */
export function requestIdOfError(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const own = errorRequestIds.get(error);
  if (own !== undefined) return own;
  const original = (error as { originalError?: unknown }).originalError;
  return typeof original === 'object' && original !== null ? errorRequestIds.get(original) : undefined;
}
