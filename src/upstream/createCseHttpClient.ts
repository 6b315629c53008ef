import type { Dispatcher } from 'undici';
import type { GatewayConfig } from '../config/loadConfig';
import type { UpstreamEvents } from '../observability/events';
import type { CacheTtls } from '../cache/freshness';
import { CseHttpClient, type CseHttpClientOptions, type SharedUpstreamState } from './CseHttpClient';

/** The cache TTLs of a config, by kind. */
export function cacheTtlsOf(config: GatewayConfig): CacheTtls {
  return {
    listMs: config.cacheListTtlMs,
    engineMs: config.cacheEngineTtlMs,
    jobMs: config.cacheJobTtlMs,
    terminalJobMs: config.cacheTerminalJobTtlMs,
  };
}

/** The upstream client's options, every one of them from `config` (where the defaults live). */
export function cseHttpClientOptions(
  config: GatewayConfig,
  endpoint: string,
  dispatcher: Dispatcher,
  events: UpstreamEvents | undefined,
  shared?: SharedUpstreamState,
): CseHttpClientOptions {
  return {
    ...(shared === undefined ? {} : { shared }),
    endpoint,
    dispatcher,
    events,
    resilience: {
      attemptTimeoutMs: config.cseTimeoutMs,
      maxResponseBytes: config.cseMaxResponseBytes,
      retries: config.cseRetries,
      retryBaseMs: config.cseRetryBaseMs,
      maxInFlight: config.cseMaxInflight,
      maxQueue: config.cseMaxQueue,
      perEngine: { inFlight: config.cseMaxInflightPerEngine, queue: config.cseMaxQueuePerEngine },
      perCaller: { inFlight: config.cseMaxInflightPerCaller, queue: config.cseMaxQueuePerCaller },
      engineBreakerFailures: config.cseBreakerFailures,
      upstreamBreakerFailures: config.cseUpstreamBreakerFailures,
      breakerOpenMs: config.cseBreakerOpenMs,
    },
    cache: { ttls: cacheTtlsOf(config), maxEntries: config.cacheMaxEntries, maxBytes: config.cacheMaxBytes },
    credentials: { rejectionTtlMs: config.cseAuthRejectionTtlMs, recheckMs: config.cacheAuthRecheckMs },
  };
}

/** The process's one upstream client, with the resilience and cache settings of `config`. */
export function createCseHttpClient(config: GatewayConfig, endpoint: string, dispatcher: Dispatcher, events?: UpstreamEvents, shared?: SharedUpstreamState): CseHttpClient {
  return new CseHttpClient(cseHttpClientOptions(config, endpoint, dispatcher, events, shared));
}
