import type { IncomingMessage } from 'node:http';
import type { HeldRequestContext } from './exchangeMemory';
import type { OperationTelemetry } from './OperationTelemetry';

/** One HTTP request's, while it is served; the rest is set for GraphQL requests only. */
export interface RequestRecord {
  readonly requestId: string;
  readonly telemetry?: OperationTelemetry;
  /** What Apollo keeps of each operation (a batch has several), released when the exchange ends. */
  readonly held?: HeldRequestContext[];
}

// On the request itself, not in an AsyncLocalStorage (on Node 20 one store turns on async hooks for every
// promise) nor a WeakMap (an ephemeron per request for every young-generation collection).
const RECORD = Symbol('cse-jobs-gateway.requestRecord');
type RecordedRequest = IncomingMessage & { [RECORD]?: RequestRecord };
// Errors are rare, and may be frozen: a WeakMap.
const errorRequestIds = new WeakMap<object, string>();

export function setRequestRecord(request: IncomingMessage, record: RequestRecord): void {
  (request as RecordedRequest)[RECORD] = record;
}

export function requestRecordOf(request: IncomingMessage): RequestRecord | undefined {
  return (request as RecordedRequest)[RECORD];
}

/** For code that later sees only the error (formatError). */
export function tagError(error: unknown, requestId: string): void {
  if (typeof error === 'object' && error !== null) errorRequestIds.set(error, requestId);
}

export function requestIdOfError(error: unknown): string | undefined {
  // A WeakMap answers undefined for a key that is not an object.
  const original = (error as { originalError?: unknown } | null | undefined)?.originalError;
  return errorRequestIds.get(error as object) ?? errorRequestIds.get(original as object);
}
