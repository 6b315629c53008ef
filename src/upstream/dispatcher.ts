import { Agent, type Dispatcher } from 'undici';

export interface DispatcherOptions {
  /** Keep-alive connections to the upstream origin (`CSE_CONNECTIONS`). */
  readonly connections: number;
  /** Bounds connecting, waiting for headers, and each pause while the body streams (`CSE_TIMEOUT_MS`). */
  readonly timeoutMs: number;
}

/**
 * How long an idle upstream connection is kept: below the 5 s idle timeout common to HTTP
 * servers and proxies (Node's own default), so the gateway closes it first rather than write a
 * request into a socket the other end is closing.
 */
const UPSTREAM_KEEP_ALIVE_MS = 4000;

/**
 * The one undici dispatcher for the upstream, created at start-up and injected, so tests can
 * hand the client a different one and every call shares one keep-alive pool.
 *
 * Retries are not an interceptor here: undici's `interceptors.retry` waits out `Retry-After`
 * without knowing the operation's deadline, retries timeouts, and hides individual attempts from
 * the circuit breakers and the per-attempt events. The client's retry stage owns that loop
 * instead; the dispatcher keeps the pool and the socket-level timeouts.
 */
export function createUpstreamDispatcher(options: DispatcherOptions): Dispatcher {
  return new Agent({
    connections: options.connections,
    connectTimeout: options.timeoutMs,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    keepAliveTimeout: UPSTREAM_KEEP_ALIVE_MS,
  });
}
