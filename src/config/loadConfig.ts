/**
 * The one place the environment is read. `loadConfig(env)` validates every value and returns a
 * frozen, typed object; a bad value throws a ConfigError naming the variable and the value, and
 * the process stops before it serves anything. Nothing else in the gateway touches process.env.
 */

export type NodeEnv = 'development' | 'production' | 'test';

export interface GatewayConfig {
  /** Port the gateway listens on. */
  readonly port: number;
  /** Interface the gateway listens on; undefined means every interface (Node's default). */
  readonly host: string | undefined;
  /** Upstream base URL (scheme, host, optional path prefix, no trailing slash); undefined: start the embedded simulator. */
  readonly cseEndpoint: string | undefined;
  /** Project used when a request has no `X-Project-Id`; undefined: the header is required. */
  readonly cseProjectId: string | undefined;
  /** The number the upstream gives its first page (the docs say "page number"; assumed 1). */
  readonly csePageBase: 0 | 1;
  /** The largest `limit` the gateway ever sends, and the largest `first`/`last` it accepts. */
  readonly cseMaxPageSize: number;
  /** Upstream calls one GraphQL operation may have in flight at once (fan-out bound). */
  readonly cseRequestConcurrency: number;
  /** Keep-alive connections in the upstream pool. */
  readonly cseConnections: number;
  /** Bounds each upstream attempt (connect, headers and body). */
  readonly cseTimeoutMs: number;
  /** Bounds a whole GraphQL operation: no upstream attempt or retry outlives it. */
  readonly requestTimeoutMs: number;
  /** Retries of a failed upstream GET (connection errors, 500, 502, 503, 504, 429). */
  readonly cseRetries: number;
  /** First backoff step before a retry; doubles per retry, with jitter. */
  readonly cseRetryBaseMs: number;
  /** Upstream requests in flight in the whole process. */
  readonly cseMaxInflight: number;
  /** Upstream requests waiting for a free slot; past it, calls are shed at once. */
  readonly cseMaxQueue: number;
  /** The share of the in-flight slots, and of the queue, that calls about one engine may hold. */
  readonly cseMaxInflightPerEngine: number;
  readonly cseMaxQueuePerEngine: number;
  /** The share of the in-flight slots, and of the queue, that one caller (credential scope) may hold. */
  readonly cseMaxInflightPerCaller: number;
  readonly cseMaxQueuePerCaller: number;
  /** How long the upstream's 401 for a token is remembered: its calls fail meanwhile without being made. */
  readonly cseAuthRejectionTtlMs: number;
  /** Consecutive failed attempts against one engine that open its circuit breaker. */
  readonly cseBreakerFailures: number;
  /** Consecutive transport failures (refused, reset, timed out) that open the whole-upstream breaker. */
  readonly cseUpstreamBreakerFailures: number;
  /** How long an open breaker refuses calls before it lets one probe through. */
  readonly cseBreakerOpenMs: number;
  /** Cached answers are served to a caller only if the upstream itself answered them within this time. */
  readonly cacheAuthRecheckMs: number;
  /** Response cache TTLs in ms by kind; 0 disables that cache. */
  readonly cacheListTtlMs: number;
  readonly cacheEngineTtlMs: number;
  readonly cacheJobTtlMs: number;
  readonly cacheTerminalJobTtlMs: number;
  /** Bounds of the response cache: entries, and the upstream body bytes they hold. */
  readonly cacheMaxEntries: number;
  readonly cacheMaxBytes: number;
  /** Bound of the whole-operation result cache (`OPERATION_CACHE_MAX_BYTES`), in bytes of results. */
  readonly operationCacheMaxBytes: number;
  readonly nodeEnv: NodeEnv;
  /** pino level; `silent` turns logging off. */
  readonly logLevel: LogLevel;
  /** Human-readable log lines (pino-pretty, a development dependency) instead of JSON. */
  readonly logPretty: boolean;
  /** Distinct operation names that get their own metrics label; later ones share `(other)`. */
  readonly metricsMaxOperations: number;
  /** After SIGTERM/SIGINT: time readiness reports false while new connections are still accepted. */
  readonly shutdownDelayMs: number;
  /** After SIGTERM/SIGINT: how long in-flight operations may take before connections are cut. */
  readonly shutdownTimeoutMs: number;
  /** Request bodies above this many bytes are refused with 413 before they are parsed. */
  readonly maxBodyBytes: number;
  /** A request's headers must arrive within this time; a socket that sends nothing is closed after it. */
  readonly httpHeadersTimeoutMs: number;
  /** A whole request (headers and body) must arrive within this time. */
  readonly httpRequestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this time. */
  readonly httpKeepAliveTimeoutMs: number;
  /** Client connections open at once; more are closed as soon as they are accepted. */
  readonly httpMaxConnections: number;
  /** Deepest field nesting an operation may have (introspection exempt). */
  readonly maxDepth: number;
  /** Aliases an operation may use. */
  readonly maxAliases: number;
  /** Lexical tokens a document may have; parsing stops past it. */
  readonly maxTokens: number;
  /** Worst-case upstream calls one operation may make; above it: QUERY_TOO_COMPLEX. */
  readonly maxUpstreamCalls: number;
  /** Schema introspection (and the federation `_service` SDL). */
  readonly enableIntrospection: boolean;
  /** The Apollo Sandbox landing page at `/graphql`. */
  readonly enableSandbox: boolean;
  /** Browser origins allowed by CORS (exact `scheme://host[:port]`), or `*`. */
  readonly corsOrigins: readonly string[] | '*';
  /** Several operations in one HTTP request (a JSON array body). */
  readonly allowBatching: boolean;
  /** `apq`: automatic persisted queries; `safelist`: only the manifest's operations; `off`. */
  readonly persistedQueries: 'apq' | 'safelist' | 'off';
  /** Path of the persisted query list manifest (required with `safelist`). */
  readonly persistedQueriesManifest: string | undefined;
  /** Bound of the APQ cache, in bytes of query text. */
  readonly apqCacheMaxBytes: number;
  /** More Engine references than this in one federation `_entities` call are read from list pages. */
  readonly federationEngineListThreshold: number;
  /** `compiled`: operations run as graphql-jit compiled functions; `graphql-js`: graphql-js's interpreter. */
  readonly graphqlExecutor: 'compiled' | 'graphql-js';
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly value: string,
    expected: string,
  ) {
    super(`Invalid configuration: ${variable}=${JSON.stringify(value)}: expected ${expected}.`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Project ids are 1 to 64 characters; we also keep them to a URL-path-safe alphabet. */
export const PROJECT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function loadConfig(env: Env): GatewayConfig {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const persistedQueries = oneOf(env, 'PERSISTED_QUERIES', ['apq', 'safelist', 'off'] as const, 'apq');
  const cseMaxInflight = integer(env, 'CSE_MAX_INFLIGHT', 64, 1, 10_000);
  const cseMaxQueue = integer(env, 'CSE_MAX_QUEUE', 256, 0, 100_000);
  const config: GatewayConfig = {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: optional(env, 'HOST'),
    cseEndpoint: endpoint(env, 'CSE_ENDPOINT'),
    cseProjectId: pattern(env, 'CSE_PROJECT_ID', PROJECT_ID_PATTERN, '1 to 64 letters, digits, "_" or "-"'),
    csePageBase: oneOf(env, 'CSE_PAGE_BASE', ['0', '1'] as const, '1') === '0' ? 0 : 1,
    cseMaxPageSize: integer(env, 'CSE_MAX_PAGE_SIZE', 100, 1, 1000),
    cseRequestConcurrency: integer(env, 'CSE_REQUEST_CONCURRENCY', 8, 1, 256),
    cseConnections: integer(env, 'CSE_CONNECTIONS', 32, 1, 1024),
    cseTimeoutMs: integer(env, 'CSE_TIMEOUT_MS', 5000, 1, 600_000),
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 15_000, 1, 600_000),
    cseRetries: integer(env, 'CSE_RETRIES', 2, 0, 10),
    cseRetryBaseMs: integer(env, 'CSE_RETRY_BASE_MS', 100, 1, 60_000),
    cseMaxInflight,
    cseMaxQueue,
    // Shares default to a quarter (one engine) and a half (one caller) of the whole.
    cseMaxInflightPerEngine: integer(env, 'CSE_MAX_INFLIGHT_PER_ENGINE', Math.max(1, Math.floor(cseMaxInflight / 4)), 1, cseMaxInflight),
    cseMaxQueuePerEngine: integer(env, 'CSE_MAX_QUEUE_PER_ENGINE', Math.min(cseMaxQueue, Math.max(1, Math.floor(cseMaxQueue / 4))), 0, cseMaxQueue),
    cseMaxInflightPerCaller: integer(env, 'CSE_MAX_INFLIGHT_PER_CALLER', Math.max(1, Math.floor(cseMaxInflight / 2)), 1, cseMaxInflight),
    cseMaxQueuePerCaller: integer(env, 'CSE_MAX_QUEUE_PER_CALLER', Math.min(cseMaxQueue, Math.max(1, Math.floor(cseMaxQueue / 2))), 0, cseMaxQueue),
    cseAuthRejectionTtlMs: integer(env, 'CSE_AUTH_REJECTION_TTL_MS', 10_000, 0, 3_600_000),
    cseBreakerFailures: integer(env, 'CSE_BREAKER_FAILURES', 5, 1, 10_000),
    cseUpstreamBreakerFailures: integer(env, 'CSE_UPSTREAM_BREAKER_FAILURES', 10, 1, 10_000),
    cseBreakerOpenMs: integer(env, 'CSE_BREAKER_OPEN_MS', 10_000, 1, 3_600_000),
    cacheAuthRecheckMs: integer(env, 'CACHE_AUTH_RECHECK_MS', 60_000, 0, 86_400_000),
    cacheListTtlMs: integer(env, 'CACHE_LIST_TTL_MS', 2000, 0, 86_400_000),
    cacheEngineTtlMs: integer(env, 'CACHE_ENGINE_TTL_MS', 10_000, 0, 86_400_000),
    cacheJobTtlMs: integer(env, 'CACHE_JOB_TTL_MS', 2000, 0, 86_400_000),
    cacheTerminalJobTtlMs: integer(env, 'CACHE_TERMINAL_JOB_TTL_MS', 600_000, 0, 86_400_000),
    cacheMaxEntries: integer(env, 'CACHE_MAX_ENTRIES', 10_000, 1, 10_000_000),
    cacheMaxBytes: integer(env, 'CACHE_MAX_BYTES', 64 * 1024 * 1024, 1024, 16 * 1024 * 1024 * 1024),
    operationCacheMaxBytes: integer(env, 'OPERATION_CACHE_MAX_BYTES', 16 * 1024 * 1024, 1024, 16 * 1024 * 1024 * 1024),
    nodeEnv,
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'silent' : 'info'),
    logPretty: oneOf(env, 'LOG_PRETTY', ['true', 'false'] as const, 'false') === 'true',
    metricsMaxOperations: integer(env, 'METRICS_MAX_OPERATIONS', 100, 1, 10_000),
    shutdownDelayMs: integer(env, 'SHUTDOWN_DELAY_MS', 0, 0, 600_000),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
    httpHeadersTimeoutMs: integer(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
    httpRequestTimeoutMs: integer(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
    httpKeepAliveTimeoutMs: integer(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 5000, 100, 600_000),
    httpMaxConnections: integer(env, 'HTTP_MAX_CONNECTIONS', 2048, 1, 1_000_000),
    maxDepth: integer(env, 'MAX_DEPTH', 12, 1, 100),
    maxAliases: integer(env, 'MAX_ALIASES', 30, 0, 1000),
    maxTokens: integer(env, 'MAX_TOKENS', 2000, 100, 1_000_000),
    maxUpstreamCalls: integer(env, 'MAX_UPSTREAM_CALLS', 50, 1, 100_000),
    enableIntrospection: flag(env, 'ENABLE_INTROSPECTION', nodeEnv !== 'production'),
    enableSandbox: flag(env, 'ENABLE_SANDBOX', nodeEnv !== 'production'),
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    allowBatching: flag(env, 'ALLOW_BATCHING', false),
    persistedQueries,
    persistedQueriesManifest: manifestPath(env, persistedQueries),
    apqCacheMaxBytes: integer(env, 'APQ_CACHE_MAX_BYTES', 8 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    federationEngineListThreshold: integer(env, 'FEDERATION_ENGINE_LIST_THRESHOLD', 3, 0, 10_000),
    graphqlExecutor: oneOf(env, 'GRAPHQL_EXECUTOR', ['compiled', 'graphql-js'] as const, 'compiled'),
  };
  // Node refuses a headers timeout longer than the request timeout it is part of.
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    throw new ConfigError('HTTP_HEADERS_TIMEOUT_MS', String(config.httpHeadersTimeoutMs), `at most HTTP_REQUEST_TIMEOUT_MS (${config.httpRequestTimeoutMs})`);
  }
  return Object.freeze(config);
}

function optional(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, raw, `an integer from ${min} to ${max}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, raw, `an integer from ${min} to ${max}`);
  return value;
}

function oneOf<const T extends readonly string[]>(env: Env, name: string, allowed: T, fallback: T[number]): T[number] {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!allowed.includes(raw)) throw new ConfigError(name, raw, `one of ${allowed.join(', ')}`);
  return raw as T[number];
}

function pattern(env: Env, name: string, re: RegExp, expected: string): string | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  if (!re.test(raw)) throw new ConfigError(name, raw, expected);
  return raw;
}

function endpoint(env: Env, name: string): string | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, raw, 'an absolute http(s) URL');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new ConfigError(name, raw, 'an absolute http(s) URL without credentials, query or fragment');
  }
  return url.href.replace(/\/+$/, '');
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  return oneOf(env, name, ['true', 'false'] as const, fallback ? 'true' : 'false') === 'true';
}

/** A comma-separated list of exact origins (`https://app.example.com`), or `*`. */
function origins(env: Env, name: string): readonly string[] | '*' {
  const raw = optional(env, name);
  if (raw === undefined) return Object.freeze([]);
  if (raw === '*') return '*';
  const list = raw.split(',').map((part) => part.trim()).filter((part) => part !== '');
  for (const origin of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.origin !== origin) {
      throw new ConfigError(name, raw, 'a comma-separated list of origins like https://app.example.com (scheme, host, optional port; no path or trailing slash), or *');
    }
  }
  return Object.freeze(list);
}

/** The manifest path: required with PERSISTED_QUERIES=safelist, meaningless (refused) otherwise. */
function manifestPath(env: Env, mode: 'apq' | 'safelist' | 'off'): string | undefined {
  const name = 'PERSISTED_QUERIES_MANIFEST';
  const raw = optional(env, name);
  if (mode === 'safelist' && raw === undefined) {
    throw new ConfigError(name, '', 'the path of a persisted query list manifest (PERSISTED_QUERIES=safelist needs one)');
  }
  if (mode !== 'safelist' && raw !== undefined) {
    throw new ConfigError(name, raw, 'no value unless PERSISTED_QUERIES=safelist');
  }
  return raw;
}
