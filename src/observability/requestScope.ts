import { AsyncLocalStorage } from 'node:async_hooks';
import type { OperationTelemetry } from './OperationTelemetry';

/** What every log line written while serving one HTTP request carries. */
export interface RequestScope {
  readonly requestId: string;
  /** Set for GraphQL requests: what the operation plugin reports into. */
  readonly operation?: OperationTelemetry;
}

const storage = new AsyncLocalStorage<RequestScope>();

/**
 * Runs `fn` (and everything it starts, across awaits, timers and DataLoader ticks) inside the
 * scope of one request. The logger reads the scope on every line, so modules that log through
 * the process logger (error masking, unknown-value reports, Apollo itself) tag their lines with
 * the request id without being handed a per-request logger.
 */
export function runInRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The scope of the request being served, if any. */
export function currentRequestScope(): RequestScope | undefined {
  return storage.getStore();
}
