import type { IncomingMessage } from 'node:http';
import type { OperationTelemetry } from './OperationTelemetry';

/** What every log line written while serving one HTTP request carries. */
export interface RequestScope {
  readonly requestId: string;
  /** Set for GraphQL requests: what the operation plugin reports into. */
  readonly operation?: OperationTelemetry;
}

/**
 * The scope of each request being served, found from the request itself (or, where a hook only
 * sees an error, from the error: see {@link tagError}).
 *
 * Deliberately not an AsyncLocalStorage: on Node 20 one store turns on async hooks for every
 * promise the process makes, and with graphql execution, DataLoader and undici that was about
 * 10% of the gateway's CPU per operation on the cold-page benchmark (measured with the store
 * replaced, S5 caches off: 1.02 → 0.92 ms per operation, median of three interleaved pairs).
 * So the scope is passed explicitly: the context carries it, log lines written for a request
 * name its id, and hooks that get neither find it here.
 */
const scopes = new WeakMap<IncomingMessage, RequestScope>();
const errorRequestIds = new WeakMap<object, string>();

export function setRequestScope(request: IncomingMessage, scope: RequestScope): void {
  scopes.set(request, scope);
}

/** The scope `observeRequests` gave this request, if any. */
export function requestScopeOf(request: IncomingMessage): RequestScope | undefined {
  return scopes.get(request);
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
