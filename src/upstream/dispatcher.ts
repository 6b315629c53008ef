import { Agent, type Dispatcher } from 'undici';

export interface DispatcherOptions {
  /** Keep-alive connections to the upstream origin (`CSE_CONNECTIONS`). */
  connections?: number;
  /** Bounds connecting, waiting for headers, and each pause while the body streams (`CSE_TIMEOUT_MS`). */
  timeoutMs?: number;
}

/**
 * The one undici dispatcher for the upstream, created at start-up and injected, so tests can
 * hand the client a different one and every call shares one keep-alive pool.
 *
 * Retries are not an interceptor here: undici's `interceptors.retry` waits out `Retry-After`
 * without knowing the operation's deadline, retries timeouts, and hides individual attempts from
 * the circuit breakers and the per-attempt events. `CseHttpClient` owns that loop instead; the
 * dispatcher keeps the pool and the socket-level timeouts.
 */
export function createUpstreamDispatcher(options: DispatcherOptions = {}): Dispatcher {
  const timeout = options.timeoutMs ?? 5000;
  return new Agent({
    connections: options.connections ?? 32,
    connectTimeout: timeout,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    keepAliveTimeout: 4000,
  });
}
