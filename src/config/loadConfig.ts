import { readFileSync } from 'node:fs';
import { EncryptionKeys, parseEncryptionKeys } from './encryptionKeys';

export { EncryptionKeys } from './encryptionKeys';

/**
 * The one place the environment is read, and the one place defaults live. `loadConfig(env)`
 * validates every value and returns a frozen, typed object; bad values throw one ConfigError that
 * names every bad variable and its value (not only the first), and the process stops before it
 * serves anything. Nothing else in the gateway touches process.env, and the layers below take
 * their options as required values from this object.
 */

export type NodeEnv = 'development' | 'production' | 'test';

export interface GatewayConfig {
  /** Port the gateway listens on. */
  readonly port: number;
  /**
   * METRICS_PORT: /metrics on a listener of its own (as routers offer), and not on PORT; unset:
   * {@link PRODUCTION_METRICS_PORT} in production, /metrics beside /graphql otherwise.
   */
  readonly metricsPort: number | undefined;
  /** Interface the gateway listens on; undefined means every interface (Node's default). */
  readonly host: string | undefined;
  /** Upstream base URL (scheme, host, optional path prefix, no trailing slash); undefined: start the embedded simulator. */
  readonly cseEndpoint: string | undefined;
  /**
   * Whether `npm start` may serve the embedded simulator's fake data when CSE_ENDPOINT is unset:
   * in development and test by default, in production only when asked for (EMBEDDED_SIMULATOR=true).
   */
  readonly embeddedSimulator: boolean;
  /** Project used when a request has no `X-Project-Id`; undefined: the header is required. */
  readonly cseProjectId: string | undefined;
  /** The number the upstream gives its first page (the docs say "page number"; assumed 1). */
  readonly csePageBase: 0 | 1;
  /** The largest `limit` the gateway ever sends, and the largest `first`/`last` it accepts. */
  readonly cseMaxPageSize: number;
  /** Items per page when a connection has neither `first` nor `last` (20, or less when the maximum is). */
  readonly defaultPageSize: number;
  /** Upstream calls one GraphQL operation may have in flight at once (fan-out bound). */
  readonly cseRequestConcurrency: number;
  /** Keep-alive connections in the upstream pool. */
  readonly cseConnections: number;
  /** Bounds each upstream attempt (connect, headers and body). */
  readonly cseTimeoutMs: number;
  /** Successful upstream answers larger than this are refused as UPSTREAM_BAD_RESPONSE. */
  readonly cseMaxResponseBytes: number;
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
  /** Bytes of upstream answers one operation may use; the field past it: RESPONSE_TOO_LARGE. */
  readonly operationMaxUpstreamBytes: number;
  /** Items one list field (a job's tasks) may answer; a longer one: RESPONSE_TOO_LARGE. */
  readonly maxListItems: number;
  /** Schema introspection (and the federation `_service` SDL). */
  readonly enableIntrospection: boolean;
  /** The Apollo Sandbox landing page at `/graphql` (EXPLORER=sandbox; also allows Studio's origin by CORS). */
  readonly enableSandbox: boolean;
  /**
   * What a browser opening `/graphql` finds (EXPLORER): Apollo Sandbox (loaded from Apollo's CDN),
   * the GraphiQL bundled with the gateway (nothing fetched from elsewhere), or nothing.
   * `enableSandbox` is `explorer === 'sandbox'`.
   */
  readonly explorer: Explorer;
  /** Browser origins allowed by CORS (exact `scheme://host[:port]`), or `*`. */
  readonly corsOrigins: readonly string[] | '*';
  /** Several operations in one HTTP request (a JSON array body). */
  readonly allowBatching: boolean;
  /** Operations one batched request may hold. */
  readonly maxBatchOperations: number;
  /** `apq`: automatic persisted queries; `safelist`: only the manifest's operations; `off`. */
  readonly persistedQueries: 'apq' | 'safelist' | 'off';
  /** Path of the persisted query list manifest (required with `safelist`). */
  readonly persistedQueriesManifest: string | undefined;
  /** Bound of the APQ cache, in bytes of query text. */
  readonly apqCacheMaxBytes: number;
  /** Bound of the parsed-document store, in estimated bytes of the documents' ASTs. */
  readonly documentCacheMaxBytes: number;
  /** More Engine references than this in one federation `_entities` call are read from list pages. */
  readonly federationEngineListThreshold: number;
  /** Engine-list pages one `_entities` call reads at most (its upstream-call budget: see engineReferenceBudget). */
  readonly federationEngineListMaxPages: number;
  /** `adaptive`: interpreted until a document's shape is hot, then compiled; `compiled`: always; `graphql-js`: never. */
  readonly graphqlExecutor: 'adaptive' | 'compiled' | 'graphql-js';
  /** Adaptive: uses of a document shape within a minute after which it is compiled. */
  readonly graphqlCompileAfterUses: number;
  /** Adaptive: bound of the compiled plans, in estimated bytes. */
  readonly compiledPlansMaxBytes: number;
  /** Subscriptions: how often each watched engine (per credential scope) is polled. */
  readonly subscriptionPollMs: number;
  /** Subscriptions: the longest wait between polls while the upstream keeps failing (backoff). */
  readonly subscriptionMaxBackoffMs: number;
  /** Subscriptions: newest job-list pages one poll reads at most before details calls. */
  readonly subscriptionListPages: number;
  /** Subscriptions one WebSocket may hold at once. */
  readonly subscriptionMaxPerConnection: number;
  /** Subscriptions: upstream calls one credential scope's polls make per SUBSCRIPTION_POLL_MS at most. */
  readonly subscriptionMaxCallsPerPoll: number;
  /** Subscriptions: distinct jobs and engines' events one credential scope watches at most. */
  readonly subscriptionMaxWatchedPerScope: number;
  /** Subscriptions the process holds at once, all sockets together. */
  readonly subscriptionMaxTotal: number;
  /** A WebSocket whose unsent bytes (send buffer and pending results) pass this is closed (a consumer that does not read). */
  readonly subscriptionMaxBufferedBytes: number;
  /** A WebSocket must send `connection_init` within this time. */
  readonly subscriptionInitTimeoutMs: number;
  /** Interval of the WebSocket pings; a socket that has not answered the last one is closed. */
  readonly subscriptionKeepAliveMs: number;
  /** Connection items (each connection's page) one subscription event may render; above it: QUERY_TOO_COMPLEX. */
  readonly subscriptionMaxItemsPerEvent: number;
  /** Subscriptions: a WebSocket without a subscription for this long is closed. */
  readonly subscriptionIdleTimeoutMs: number;
  /** Subscriptions: WebSockets open at once (below HTTP_MAX_CONNECTIONS; 0: none). */
  readonly subscriptionMaxSockets: number;
  /** Subscriptions: WebSockets one client address may hold at once. */
  readonly subscriptionMaxSocketsPerAddress: number;
  /**
   * Redis shared by the replicas (`redis://` or `rediss://`, credentials in the URL); undefined:
   * every replica keeps its own state, as a single instance does (see docs/replicas.md).
   */
  readonly redisUrl: string | undefined;
  /**
   * REDIS_CLUSTER: `redisUrl` names one seed node of a Redis Cluster (the others are discovered);
   * its credentials and TLS apply to every node, and its database is 0.
   */
  readonly redisCluster: boolean;
  /** Prefix of every key and channel the gateway uses in Redis. */
  readonly redisKeyPrefix: string;
  /** Bounds every Redis command; past it the replica goes on with its local state. */
  readonly redisTimeoutMs: number;
  /** Lifetime of a replica's lease on an upstream call (renewed while the call runs). */
  readonly redisLeaseMs: number;
  /** Values larger than this (upstream answers, APQ documents) are not written to Redis. */
  readonly redisMaxValueBytes: number;
  /**
   * REDIS_ENCRYPTION_KEY: what the gateway writes to Redis is sealed (AES-256-GCM) with the first
   * key and opened with any of them (rotation); undefined: written as it is. Never logged.
   */
  readonly redisEncryptionKeys: EncryptionKeys | undefined;
  /**
   * REDIS_TLS_CA_FILE: the PEM certificates (read from that file at start-up) that a `rediss://`
   * Redis's certificate must chain to, instead of Node's public roots; undefined: the public roots.
   */
  readonly redisTlsCa: string | undefined;
}

export const EXPLORERS = ['sandbox', 'graphiql', 'off'] as const;
export type Explorer = (typeof EXPLORERS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One variable with a value the gateway cannot use. */
export interface ConfigProblem {
  readonly variable: string;
  readonly value: string;
  readonly expected: string;
}

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]);
  constructor(variable: string, value: string, expected: string);
  constructor(first: string | readonly ConfigProblem[], value?: string, expected?: string) {
    const problems = typeof first === 'string' ? [{ variable: first, value: value ?? '', expected: expected ?? '' }] : first;
    const lines = problems.map((problem) => `${problem.variable}=${JSON.stringify(problem.value)}: expected ${problem.expected}.`);
    super(lines.length === 1 ? `Invalid configuration: ${lines[0]}` : `Invalid configuration:\n${lines.map((line) => `  ${line}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Items per page when a connection has neither `first` nor `last` (see GatewayConfig.defaultPageSize); also the `assumedSize` of the connections' `@listSize` in the subgraph SDL. */
export const DEFAULT_PAGE_SIZE = 20;

/**
 * A key prefix without braces: a brace would change the Redis Cluster hash tag the keys rely on
 * to keep a lease and its value in one slot.
 */
const REDIS_KEY_PREFIX_PATTERN = /^[A-Za-z0-9_\-.:/]{1,64}$/;

/** SHUTDOWN_DELAY_MS in production: above a readiness probe period of a few seconds. */
const PRODUCTION_SHUTDOWN_DELAY_MS = 5000;

/** Project ids are 1 to 64 characters; we also keep them to a URL-path-safe alphabet. */
export const PROJECT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * METRICS_PORT's default in production (OpenTelemetry's Prometheus exporter port): the metrics
 * page (versions, error counts, operation names) is not for whoever reaches the API port.
 */
export const PRODUCTION_METRICS_PORT = 9464;

export function loadConfig(env: Env): GatewayConfig {
  const read = new EnvReader(env);
  const nodeEnv = read.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const persistedQueries = read.oneOf('PERSISTED_QUERIES', ['apq', 'safelist', 'off'] as const, 'apq');
  const cseMaxPageSize = read.integer('CSE_MAX_PAGE_SIZE', 100, 1, 1000);
  const explorer = read.explorer(nodeEnv);
  const cseMaxInflight = read.integer('CSE_MAX_INFLIGHT', 64, 1, 10_000);
  const cseMaxQueue = read.integer('CSE_MAX_QUEUE', 256, 0, 100_000);
  // Read first: the WebSocket caps' defaults are shares of it.
  const httpMaxConnections = read.integer('HTTP_MAX_CONNECTIONS', 2048, 1, 1_000_000);
  const subscriptionMaxSockets = read.integer('SUBSCRIPTION_MAX_SOCKETS', Math.floor(httpMaxConnections / 2), 0, 1_000_000);
  const config: GatewayConfig = {
    port: read.integer('PORT', 4000, 0, 65535),
    metricsPort: read.optional('METRICS_PORT') === undefined && nodeEnv !== 'production' ? undefined : read.integer('METRICS_PORT', PRODUCTION_METRICS_PORT, 0, 65535),
    host: read.optional('HOST'),
    cseEndpoint: read.endpoint('CSE_ENDPOINT'),
    embeddedSimulator: read.flag('EMBEDDED_SIMULATOR', nodeEnv !== 'production'),
    cseProjectId: read.pattern('CSE_PROJECT_ID', PROJECT_ID_PATTERN, '1 to 64 letters, digits, "_" or "-"'),
    csePageBase: read.oneOf('CSE_PAGE_BASE', ['0', '1'] as const, '1') === '0' ? 0 : 1,
    cseMaxPageSize,
    // The schema's descriptions promise 20; not a setting of its own.
    defaultPageSize: Math.min(DEFAULT_PAGE_SIZE, cseMaxPageSize),
    cseRequestConcurrency: read.integer('CSE_REQUEST_CONCURRENCY', 8, 1, 256),
    cseConnections: read.integer('CSE_CONNECTIONS', 32, 1, 1024),
    cseTimeoutMs: read.integer('CSE_TIMEOUT_MS', 5000, 1, 600_000),
    cseMaxResponseBytes: read.integer('CSE_MAX_RESPONSE_BYTES', 4 * 1024 * 1024, 64 * 1024, 256 * 1024 * 1024),
    requestTimeoutMs: read.integer('REQUEST_TIMEOUT_MS', 15_000, 1, 600_000),
    cseRetries: read.integer('CSE_RETRIES', 2, 0, 10),
    cseRetryBaseMs: read.integer('CSE_RETRY_BASE_MS', 100, 1, 60_000),
    cseMaxInflight,
    cseMaxQueue,
    // Shares default to a quarter (one engine) and a half (one caller) of the whole.
    cseMaxInflightPerEngine: read.integer('CSE_MAX_INFLIGHT_PER_ENGINE', Math.max(1, Math.floor(cseMaxInflight / 4)), 1, cseMaxInflight),
    cseMaxQueuePerEngine: read.integer('CSE_MAX_QUEUE_PER_ENGINE', Math.min(cseMaxQueue, Math.max(1, Math.floor(cseMaxQueue / 4))), 0, cseMaxQueue),
    cseMaxInflightPerCaller: read.integer('CSE_MAX_INFLIGHT_PER_CALLER', Math.max(1, Math.floor(cseMaxInflight / 2)), 1, cseMaxInflight),
    cseMaxQueuePerCaller: read.integer('CSE_MAX_QUEUE_PER_CALLER', Math.min(cseMaxQueue, Math.max(1, Math.floor(cseMaxQueue / 2))), 0, cseMaxQueue),
    cseAuthRejectionTtlMs: read.integer('CSE_AUTH_REJECTION_TTL_MS', 10_000, 0, 3_600_000),
    cseBreakerFailures: read.integer('CSE_BREAKER_FAILURES', 5, 1, 10_000),
    cseUpstreamBreakerFailures: read.integer('CSE_UPSTREAM_BREAKER_FAILURES', 10, 1, 10_000),
    cseBreakerOpenMs: read.integer('CSE_BREAKER_OPEN_MS', 10_000, 1, 3_600_000),
    cacheAuthRecheckMs: read.integer('CACHE_AUTH_RECHECK_MS', 60_000, 0, 86_400_000),
    cacheListTtlMs: read.integer('CACHE_LIST_TTL_MS', 2000, 0, 86_400_000),
    cacheEngineTtlMs: read.integer('CACHE_ENGINE_TTL_MS', 10_000, 0, 86_400_000),
    cacheJobTtlMs: read.integer('CACHE_JOB_TTL_MS', 2000, 0, 86_400_000),
    cacheTerminalJobTtlMs: read.integer('CACHE_TERMINAL_JOB_TTL_MS', 600_000, 0, 86_400_000),
    cacheMaxEntries: read.integer('CACHE_MAX_ENTRIES', 10_000, 1, 10_000_000),
    cacheMaxBytes: read.integer('CACHE_MAX_BYTES', 64 * 1024 * 1024, 1024, 16 * 1024 * 1024 * 1024),
    operationCacheMaxBytes: read.integer('OPERATION_CACHE_MAX_BYTES', 16 * 1024 * 1024, 1024, 16 * 1024 * 1024 * 1024),
    nodeEnv,
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'silent' : 'info'),
    logPretty: read.oneOf('LOG_PRETTY', ['true', 'false'] as const, 'false') === 'true',
    metricsMaxOperations: read.integer('METRICS_MAX_OPERATIONS', 100, 1, 10_000),
    // Production sits behind a load balancer: it must see /readyz fail before connections are refused.
    shutdownDelayMs: read.integer('SHUTDOWN_DELAY_MS', nodeEnv === 'production' ? PRODUCTION_SHUTDOWN_DELAY_MS : 0, 0, 600_000),
    shutdownTimeoutMs: read.integer('SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    maxBodyBytes: read.integer('MAX_BODY_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
    httpHeadersTimeoutMs: read.integer('HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
    httpRequestTimeoutMs: read.integer('HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
    httpKeepAliveTimeoutMs: read.integer('HTTP_KEEP_ALIVE_TIMEOUT_MS', 5000, 100, 600_000),
    httpMaxConnections,
    maxDepth: read.integer('MAX_DEPTH', 12, 1, 100),
    maxAliases: read.integer('MAX_ALIASES', 30, 0, 1000),
    maxTokens: read.integer('MAX_TOKENS', 2000, 100, 1_000_000),
    maxUpstreamCalls: read.integer('MAX_UPSTREAM_CALLS', 50, 1, 100_000),
    operationMaxUpstreamBytes: read.integer('OPERATION_MAX_UPSTREAM_BYTES', 16 * 1024 * 1024, 64 * 1024, 4 * 1024 * 1024 * 1024),
    maxListItems: read.integer('MAX_LIST_ITEMS', 1000, 1, 1_000_000),
    enableIntrospection: read.flag('ENABLE_INTROSPECTION', nodeEnv !== 'production'),
    enableSandbox: explorer === 'sandbox',
    explorer,
    corsOrigins: read.origins('CORS_ORIGINS'),
    allowBatching: read.flag('ALLOW_BATCHING', false),
    maxBatchOperations: read.integer('MAX_BATCH_OPERATIONS', 10, 1, 1000),
    persistedQueries,
    persistedQueriesManifest: read.manifestPath(persistedQueries),
    apqCacheMaxBytes: read.integer('APQ_CACHE_MAX_BYTES', 8 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    documentCacheMaxBytes: read.integer('DOCUMENT_CACHE_MAX_BYTES', 32 * 1024 * 1024, 64 * 1024, 4 * 1024 * 1024 * 1024),
    federationEngineListThreshold: read.integer('FEDERATION_ENGINE_LIST_THRESHOLD', 3, 0, 10_000),
    federationEngineListMaxPages: read.integer('FEDERATION_ENGINE_LIST_MAX_PAGES', 10, 1, 1000),
    graphqlExecutor: read.oneOf('GRAPHQL_EXECUTOR', ['adaptive', 'compiled', 'graphql-js'] as const, 'adaptive'),
    graphqlCompileAfterUses: read.integer('GRAPHQL_COMPILE_AFTER_USES', 3, 1, 1_000_000),
    compiledPlansMaxBytes: read.integer('COMPILED_PLANS_MAX_BYTES', 32 * 1024 * 1024, 64 * 1024, 4 * 1024 * 1024 * 1024),
    subscriptionPollMs: read.integer('SUBSCRIPTION_POLL_MS', 2000, 50, 3_600_000),
    subscriptionMaxBackoffMs: read.integer('SUBSCRIPTION_MAX_BACKOFF_MS', 60_000, 50, 3_600_000),
    subscriptionListPages: read.integer('SUBSCRIPTION_LIST_PAGES', 2, 1, 100),
    subscriptionMaxPerConnection: read.integer('SUBSCRIPTION_MAX_PER_CONNECTION', 25, 1, 10_000),
    subscriptionMaxCallsPerPoll: read.integer('SUBSCRIPTION_MAX_CALLS_PER_POLL', 10, 1, 10_000),
    subscriptionMaxWatchedPerScope: read.integer('SUBSCRIPTION_MAX_WATCHED_PER_SCOPE', 500, 1, 1_000_000),
    subscriptionMaxTotal: read.integer('SUBSCRIPTION_MAX_TOTAL', 10_000, 0, 10_000_000),
    subscriptionMaxBufferedBytes: read.integer('SUBSCRIPTION_MAX_BUFFERED_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    subscriptionInitTimeoutMs: read.integer('SUBSCRIPTION_INIT_TIMEOUT_MS', 3000, 100, 600_000),
    subscriptionKeepAliveMs: read.integer('SUBSCRIPTION_KEEPALIVE_MS', 12_000, 0, 3_600_000),
    subscriptionMaxItemsPerEvent: read.integer('SUBSCRIPTION_MAX_ITEMS_PER_EVENT', 20, 0, 100_000),
    subscriptionIdleTimeoutMs: read.integer('SUBSCRIPTION_IDLE_TIMEOUT_MS', 60_000, 100, 3_600_000),
    subscriptionMaxSockets,
    subscriptionMaxSocketsPerAddress: read.integer('SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS', Math.min(256, subscriptionMaxSockets), 0, 1_000_000),
    redisUrl: read.redisUrl('REDIS_URL'),
    redisCluster: read.flag('REDIS_CLUSTER', false),
    redisKeyPrefix: read.pattern('REDIS_KEY_PREFIX', REDIS_KEY_PREFIX_PATTERN, '1 to 64 letters, digits or "_-.:/" and no braces') ?? 'cse-gw:',
    redisTimeoutMs: read.integer('REDIS_TIMEOUT_MS', 100, 1, 10_000),
    redisLeaseMs: read.integer('REDIS_LEASE_MS', 1000, 50, 60_000),
    redisMaxValueBytes: read.integer('REDIS_MAX_VALUE_BYTES', 512 * 1024, 1024, 64 * 1024 * 1024),
    redisEncryptionKeys: read.encryptionKeys('REDIS_ENCRYPTION_KEY'),
    redisTlsCa: read.pemFile('REDIS_TLS_CA_FILE'),
  };
  // Settings that are only meaningful together.
  // Node refuses a headers timeout longer than the request timeout it is part of.
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    read.problem('HTTP_HEADERS_TIMEOUT_MS', String(config.httpHeadersTimeoutMs), `at most HTTP_REQUEST_TIMEOUT_MS (${config.httpRequestTimeoutMs})`);
  }
  if (config.subscriptionMaxBackoffMs < config.subscriptionPollMs) {
    read.problem('SUBSCRIPTION_MAX_BACKOFF_MS', String(config.subscriptionMaxBackoffMs), `at least SUBSCRIPTION_POLL_MS (${config.subscriptionPollMs})`);
  }
  // WebSockets hold their connection for as long as they stay: below the HTTP cap, they cannot
  // take every connection from HTTP callers.
  if (config.subscriptionMaxSockets > 0 && config.subscriptionMaxSockets >= config.httpMaxConnections) {
    read.problem('SUBSCRIPTION_MAX_SOCKETS', String(config.subscriptionMaxSockets), `less than HTTP_MAX_CONNECTIONS (${config.httpMaxConnections})`);
  }
  if (config.subscriptionMaxSocketsPerAddress > config.subscriptionMaxSockets) {
    read.problem('SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS', String(config.subscriptionMaxSocketsPerAddress), `at most SUBSCRIPTION_MAX_SOCKETS (${config.subscriptionMaxSockets})`);
  }
  if (config.redisCluster && config.redisUrl !== undefined) {
    // A Redis Cluster has database 0 alone, and a seed URL's query options would reach no node.
    const url = new URL(config.redisUrl);
    if (!/^\/?0?$/.test(url.pathname) || url.search !== '') {
      read.problem('REDIS_URL', maskPassword(url), 'database 0 or none, and no query string, with REDIS_CLUSTER=true (a Redis Cluster has one database)');
    }
  }
  // Only a TLS connection checks a certificate: a CA for any other would be silently unused.
  if (config.redisTlsCa !== undefined && (config.redisUrl === undefined || new URL(config.redisUrl).protocol !== 'rediss:')) {
    read.problem('REDIS_TLS_CA_FILE', read.optional('REDIS_TLS_CA_FILE') ?? '', 'no value unless REDIS_URL is a rediss:// URL');
  }
  read.finish();
  return Object.freeze(config);
}

/** A URL as it may be shown: the password, if any, replaced by `***`. */
export function maskPassword(url: URL): string {
  if (url.password === '') return url.href;
  const masked = new URL(url.href);
  masked.password = '***';
  return masked.href;
}

/**
 * Settings that are valid each on its own but do not mean what they say together: said at
 * start-up (main logs them), not refused — lowering REQUEST_TIMEOUT_MS alone is a natural thing
 * to do, and the gateway still behaves well (the shorter bound wins).
 */
export function configWarnings(config: GatewayConfig): string[] {
  const warnings: string[] = [];
  if (config.cseTimeoutMs > config.requestTimeoutMs) {
    warnings.push(
      `CSE_TIMEOUT_MS (${config.cseTimeoutMs}) is above REQUEST_TIMEOUT_MS (${config.requestTimeoutMs}): no upstream attempt outlives its operation, so attempts are bounded by REQUEST_TIMEOUT_MS.`,
    );
  }
  return warnings;
}

/**
 * Reads variables, collecting every problem instead of stopping at the first: an operator fixing
 * a deployment learns all that is wrong with it in one start-up. A bad value reads as its default
 * meanwhile, so the values derived from it are still computed; `finish` throws if anything was bad.
 */
class EnvReader {
  private readonly problems: ConfigProblem[] = [];

  constructor(private readonly env: Env) {}

  problem(variable: string, value: string, expected: string): void {
    this.problems.push({ variable, value, expected });
  }

  finish(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }

  optional(name: string): string | undefined {
    const raw = this.env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(value >= min && value <= max)) return this.refuse(name, raw, `an integer from ${min} to ${max}`, fallback);
    return value;
  }

  oneOf<const T extends readonly string[]>(name: string, allowed: T, fallback: T[number]): T[number] {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (!allowed.includes(raw)) return this.refuse(name, raw, `one of ${allowed.join(', ')}`, fallback);
    return raw as T[number];
  }

  pattern(name: string, re: RegExp, expected: string): string | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return undefined;
    if (!re.test(raw)) return this.refuse(name, raw, expected, undefined);
    return raw;
  }

  endpoint(name: string): string | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return this.refuse(name, raw, 'an absolute http(s) URL', undefined);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '' || url.username !== '') {
      return this.refuse(name, raw, 'an absolute http(s) URL without credentials, query or fragment', undefined);
    }
    return url.href.replace(/\/+$/, '');
  }

  /**
   * A `redis://` or `rediss://` URL. Refused values are reported with the password masked: the
   * ConfigError's message is logged, and the URL is where Redis ACL credentials live.
   */
  redisUrl(name: string): string | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return undefined;
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
      return this.refuse(name, url === undefined ? '(not a URL)' : maskPassword(url), 'a redis:// or rediss:// URL', undefined);
    }
    return raw;
  }

  /**
   * Keys of 32 bytes (base64 or base64url), comma-separated. A refusal never shows the value (the
   * ConfigError's message is logged): only which key is wrong, and its length.
   */
  encryptionKeys(name: string): EncryptionKeys | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return undefined;
    const parsed = parseEncryptionKeys(raw);
    if ('keys' in parsed) return parsed.keys;
    const expected = `one or more comma-separated keys of 32 random bytes, each in base64 (44 characters) or base64url (43); ${parsed.problem}`;
    return this.refuse(name, '(not shown)', expected, undefined);
  }

  flag(name: string, fallback: boolean): boolean {
    return this.oneOf(name, ['true', 'false'] as const, fallback ? 'true' : 'false') === 'true';
  }

  /**
   * EXPLORER, with ENABLE_SANDBOX (the older switch) kept meaning what it said: its value
   * (default: on except in production) is EXPLORER's default, `sandbox` or `off`. Both set and
   * contradicting each other (ENABLE_SANDBOX=true with another explorer, or false with Sandbox)
   * is refused rather than one silently winning.
   */
  explorer(nodeEnv: 'development' | 'production' | 'test'): Explorer {
    const sandbox = this.flag('ENABLE_SANDBOX', nodeEnv !== 'production');
    const explorer = this.oneOf('EXPLORER', EXPLORERS, sandbox ? 'sandbox' : 'off');
    const sandboxSet = this.optional('ENABLE_SANDBOX') !== undefined;
    if (sandboxSet && this.optional('EXPLORER') !== undefined && sandbox !== (explorer === 'sandbox')) {
      return this.refuse('ENABLE_SANDBOX', String(sandbox), `${explorer === 'sandbox' ? 'true' : 'false'} or unset with EXPLORER=${explorer}`, explorer);
    }
    return explorer;
  }

  /** A comma-separated list of exact origins (`https://app.example.com`), or `*`. */
  origins(name: string): readonly string[] | '*' {
    const raw = this.optional(name);
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
        const expected = 'a comma-separated list of origins like https://app.example.com (scheme, host, optional port; no path or trailing slash), or *';
        return this.refuse(name, raw, expected, Object.freeze([]));
      }
    }
    return Object.freeze(list);
  }

  /**
   * The certificates of a PEM file, read now: a file that cannot be read or holds no certificate
   * fails the start with the variable named, not the first connection to Redis much later.
   */
  pemFile(name: string): string | undefined {
    const path = this.optional(name);
    if (path === undefined) return undefined;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      return this.refuse(name, path, `a readable PEM file of CA certificates (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, undefined);
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----')) return this.refuse(name, path, 'a PEM file of CA certificates (-----BEGIN CERTIFICATE-----)', undefined);
    return text;
  }

  /** The manifest path: required with PERSISTED_QUERIES=safelist, meaningless (refused) otherwise. */
  manifestPath(mode: 'apq' | 'safelist' | 'off'): string | undefined {
    const name = 'PERSISTED_QUERIES_MANIFEST';
    const raw = this.optional(name);
    if (mode === 'safelist' && raw === undefined) {
      return this.refuse(name, '', 'the path of a persisted query list manifest (PERSISTED_QUERIES=safelist needs one)', undefined);
    }
    if (mode !== 'safelist' && raw !== undefined) {
      return this.refuse(name, raw, 'no value unless PERSISTED_QUERIES=safelist', undefined);
    }
    return raw;
  }

  private refuse<T>(name: string, raw: string, expected: string, fallback: T): T {
    this.problem(name, raw, expected);
    return fallback;
  }
}
