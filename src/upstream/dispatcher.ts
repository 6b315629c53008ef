import { Agent, type Dispatcher } from 'undici';

export interface DispatcherOptions {
  /** Keep-alive connections to the upstream origin. */
  connections?: number;
  /** Bounds connecting, waiting for headers, and each pause while the body streams. */
  timeoutMs?: number;
}

/**
 * The one undici dispatcher for the upstream, created at start-up and injected, so tests can
 * hand the client a different one and every call shares one keep-alive pool.
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
