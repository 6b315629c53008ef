import type { IncomingMessage } from 'node:http';
import type { OperationFacts } from './OperationFacts';
import type { OperationTelemetry } from './OperationTelemetry';

/** What is known of one HTTP request while it is served; every log line of it carries its id. */
export interface RequestRecord {
  readonly requestId: string;
  /** Set for GraphQL requests: what the operation did. */
  readonly facts?: OperationFacts;
  /** Set for GraphQL requests: its span, timing and log line. */
  readonly telemetry?: OperationTelemetry;
  /** Set for GraphQL requests: what Apollo keeps of the operation, released when the exchange ends. */
  readonly memory?: { hold(requestContext: object): void };
}

/**
 * Each request's record is kept on the request itself and passed explicitly (the context carries
 * it), not in an AsyncLocalStorage: on Node 20 one store turns on async hooks for every promise
 * of the process (bench/README.md, "Measured reasons"). A symbol-keyed property, not a WeakMap:
 * one WeakMap entry per request is one more ephemeron for every young-generation collection.
 */
const RECORD = Symbol('cse-jobs-gateway.requestRecord');
type RecordedRequest = IncomingMessage & { [RECORD]?: RequestRecord };
// Errors are rare: a WeakMap is fine for them, and errors may be frozen.
const errorRequestIds = new WeakMap<object, string>();

export function setRequestRecord(request: IncomingMessage, record: RequestRecord): void {
  (request as RecordedRequest)[RECORD] = record;
}

export function requestRecordOf(request: IncomingMessage): RequestRecord | undefined {
  return (request as RecordedRequest)[RECORD];
}

/** Marks an error as raised while serving `requestId`, for code that later sees only the error (formatError). */
export function tagError(error: unknown, requestId: string): void {
  if (typeof error === 'object' && error !== null) errorRequestIds.set(error, requestId);
}

/** The request an error was raised for (see {@link tagError}); also looks at its `originalError`. */
export function requestIdOfError(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const original = (error as { originalError?: unknown }).originalError;
  const tagged = errorRequestIds.get(error);
  return tagged ?? (typeof original === 'object' && original !== null ? errorRequestIds.get(original) : undefined);
}
