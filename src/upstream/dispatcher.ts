import { Agent, type Dispatcher } from 'undici';

interface DispatcherOptions {
  /** `CSE_CONNECTIONS` and `CSE_TIMEOUT_MS`. */
  readonly connections: number;
  readonly timeoutMs: number;
}

/**
 * Below the 5 s idle timeout common to servers and proxies, so the gateway closes an idle
 * connection first rather than write a request into a socket the other end is closing.
 */
const UPSTREAM_KEEP_ALIVE_MS = 4000;

/**
 * The one undici dispatcher for the upstream (injected, so tests can substitute it): the pool and
 * the socket timeouts. Retries are the retry stage's, not undici's interceptor: that one waits out
 * `Retry-After` past the operation's deadline, retries timeouts, and hides attempts from breakers.
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
