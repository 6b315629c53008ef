import { readFileSync } from 'node:fs';
import { EncryptionKeys, parseEncryptionKeys } from './encryptionKeys';

export { EncryptionKeys } from './encryptionKeys';

/**
 * The one place the environment is read, and the one place defaults live. `loadConfig(env)`
 * validates every value and returns a frozen object in sections (upstream, cache, http, limits,
 * subscriptions, redis, observability), each handed whole to the modules it configures; bad values
 * throw one ConfigError that names every bad variable and its value, not only the first.
 * docs/configuration.md describes every variable.
 */
export type GatewayConfig = ReturnType<typeof loadConfig>;
export type HttpConfig = GatewayConfig['http'];

export type NodeEnv = 'development' | 'production' | 'test';

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
  /** NODE_ENV as read before the problems were found: how a failed start writes its line. */
  nodeEnv: NodeEnv | undefined;

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

/** Items per page when a connection has neither `first` nor `last`; also the `assumedSize` of the connections' `@listSize`. */
export const DEFAULT_PAGE_SIZE = 20;

/** A key prefix without braces: a brace would change the Redis Cluster hash tag that keeps a lease and its value in one slot. */
const REDIS_KEY_PREFIX_PATTERN = /^[A-Za-z0-9_\-.:/]{1,64}$/;

/** Project ids are 1 to 64 characters; we also keep them to a URL-path-safe alphabet. */
export const PROJECT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** METRICS_PORT's default in production (OpenTelemetry's Prometheus exporter port): the metrics page is not for the API's callers. */
export const PRODUCTION_METRICS_PORT = 9464;

/** The embedded simulator's settings, passed to it as they are (it validates them). */
const SIMULATOR_SETTINGS = ['SIMULATOR_PORT', 'SIMULATOR_SCENARIO', 'SIMULATOR_LIVE', 'SIMULATOR_LIVE_OPTIONS'] as const;

const MIB = 1024 * 1024;

export function loadConfig(env: Env) {
  const read = new EnvReader(env);
  const nodeEnv = read.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const production = nodeEnv === 'production';
  const persistedQueries = read.oneOf('PERSISTED_QUERIES', ['apq', 'safelist', 'off'] as const, 'apq');
  const maxPageSize = read.integer('CSE_MAX_PAGE_SIZE', 100, 1, 1000);
  const maxInFlight = read.integer('CSE_MAX_INFLIGHT', 64, 1, 10_000);
  const maxQueue = read.integer('CSE_MAX_QUEUE', 256, 0, 100_000);
  // Shares of the whole: a quarter for one engine, a half for one caller.
  const share = (name: string, whole: number, divisor: number, min: number) =>
    read.integer(name, Math.min(whole, Math.max(1, Math.floor(whole / divisor))), min, whole);
  // The WebSocket caps' defaults are shares of the HTTP connection cap.
  const maxConnections = read.integer('HTTP_MAX_CONNECTIONS', 2048, 1, 1_000_000);
  const maxSockets = read.integer('SUBSCRIPTION_MAX_SOCKETS', Math.floor(maxConnections / 2), 0, 1_000_000);
  const metricsPortSet = read.optional('METRICS_PORT') !== undefined;
  const upstream = Object.freeze({
    endpoint: read.endpoint('CSE_ENDPOINT'),
    projectId: read.pattern('CSE_PROJECT_ID', PROJECT_ID_PATTERN, '1 to 64 letters, digits, "_" or "-"'),
    pageBase: (read.oneOf('CSE_PAGE_BASE', ['0', '1'] as const, '1') === '0' ? 0 : 1) as 0 | 1,
    // The schema's descriptions promise a default page of 20: not a setting of its own.
    paging: Object.freeze({ maxPageSize, defaultPageSize: Math.min(DEFAULT_PAGE_SIZE, maxPageSize) }),
    requestConcurrency: read.integer('CSE_REQUEST_CONCURRENCY', 8, 1, 256),
    poolConnections: read.integer('CSE_CONNECTIONS', 32, 1, 1024),
    resilience: Object.freeze({
      attemptTimeoutMs: read.integer('CSE_TIMEOUT_MS', 5000, 1, 600_000),
      maxResponseBytes: read.integer('CSE_MAX_RESPONSE_BYTES', 4 * MIB, 64 * 1024, 256 * MIB),
      retries: read.integer('CSE_RETRIES', 2, 0, 10),
      retryBaseMs: read.integer('CSE_RETRY_BASE_MS', 100, 1, 60_000),
      maxInFlight,
      maxQueue,
      perEngine: Object.freeze({ inFlight: share('CSE_MAX_INFLIGHT_PER_ENGINE', maxInFlight, 4, 1), queue: share('CSE_MAX_QUEUE_PER_ENGINE', maxQueue, 4, 0) }),
      perCaller: Object.freeze({ inFlight: share('CSE_MAX_INFLIGHT_PER_CALLER', maxInFlight, 2, 1), queue: share('CSE_MAX_QUEUE_PER_CALLER', maxQueue, 2, 0) }),
      engineBreakerFailures: read.integer('CSE_BREAKER_FAILURES', 5, 1, 10_000),
      upstreamBreakerFailures: read.integer('CSE_UPSTREAM_BREAKER_FAILURES', 10, 1, 10_000),
      breakerOpenMs: read.integer('CSE_BREAKER_OPEN_MS', 10_000, 1, 3_600_000),
    }),
    credentials: Object.freeze({
      rejectionTtlMs: read.integer('CSE_AUTH_REJECTION_TTL_MS', 10_000, 0, 3_600_000),
      recheckMs: read.integer('CACHE_AUTH_RECHECK_MS', 60_000, 0, 86_400_000),
    }),
    // Fake data served in production by accident is worse than no start: there it must be asked for.
    simulator: Object.freeze({ allowed: read.flag('EMBEDDED_SIMULATOR', !production), settings: read.all(SIMULATOR_SETTINGS) }),
  });
  const cache = Object.freeze({
    ttls: Object.freeze({
      listMs: read.integer('CACHE_LIST_TTL_MS', 2000, 0, 86_400_000),
      engineMs: read.integer('CACHE_ENGINE_TTL_MS', 10_000, 0, 86_400_000),
      jobMs: read.integer('CACHE_JOB_TTL_MS', 2000, 0, 86_400_000),
      terminalJobMs: read.integer('CACHE_TERMINAL_JOB_TTL_MS', 600_000, 0, 86_400_000),
    }),
    maxEntries: read.integer('CACHE_MAX_ENTRIES', 10_000, 1, 10_000_000),
    maxBytes: read.integer('CACHE_MAX_BYTES', 64 * MIB, 1024, 16 * 1024 * MIB),
    wholeResponseMaxBytes: read.integer('OPERATION_CACHE_MAX_BYTES', 16 * MIB, 1024, 16 * 1024 * MIB),
  });
  const http = Object.freeze({
    port: read.integer('PORT', 4000, 0, 65535),
    host: read.optional('HOST'),
    // Unset outside production: /metrics beside /graphql.
    metricsPort: !metricsPortSet && !production ? undefined : read.integer('METRICS_PORT', PRODUCTION_METRICS_PORT, 0, 65535),
    maxBodyBytes: read.integer('MAX_BODY_BYTES', 256 * 1024, 1024, 64 * MIB),
    allowBatching: read.flag('ALLOW_BATCHING', false),
    maxBatchOperations: read.integer('MAX_BATCH_OPERATIONS', 10, 1, 1000),
    corsOrigins: read.origins('CORS_ORIGINS'),
    explorer: read.oneOf('EXPLORER', EXPLORERS, production ? 'off' : 'sandbox'),
    connections: Object.freeze({
      headersTimeoutMs: read.integer('HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
      requestTimeoutMs: read.integer('HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
      keepAliveTimeoutMs: read.integer('HTTP_KEEP_ALIVE_TIMEOUT_MS', 5000, 100, 600_000),
      maxConnections,
    }),
    // Production sits behind a load balancer: it must see /readyz fail before connections are refused.
    shutdownDelayMs: read.integer('SHUTDOWN_DELAY_MS', production ? 5000 : 0, 0, 600_000),
    shutdownTimeoutMs: read.integer('SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
  });
  const limits = Object.freeze({
    operationTimeoutMs: read.integer('REQUEST_TIMEOUT_MS', 15_000, 1, 600_000),
    maxDepth: read.integer('MAX_DEPTH', 12, 1, 100),
    maxAliases: read.integer('MAX_ALIASES', 30, 0, 1000),
    maxTokens: read.integer('MAX_TOKENS', 2000, 100, 1_000_000),
    maxUpstreamCalls: read.integer('MAX_UPSTREAM_CALLS', 50, 1, 100_000),
    budget: Object.freeze({
      maxUpstreamBytes: read.integer('OPERATION_MAX_UPSTREAM_BYTES', 16 * MIB, 64 * 1024, 4 * 1024 * MIB),
      maxListItems: read.integer('MAX_LIST_ITEMS', 1000, 1, 1_000_000),
    }),
    enableIntrospection: read.flag('ENABLE_INTROSPECTION', !production),
    persistedQueries,
    persistedQueriesManifest: read.manifestPath(persistedQueries),
    apqCacheMaxBytes: 8 * MIB,
    documentCacheMaxBytes: read.integer('DOCUMENT_CACHE_MAX_BYTES', 32 * MIB, 64 * 1024, 4 * 1024 * MIB),
    // More Engine references than `engineListThreshold` in one `_entities` call are read from list pages.
    entities: Object.freeze({ engineListThreshold: 3, maxListPages: read.integer('FEDERATION_ENGINE_LIST_MAX_PAGES', 10, 1, 1000) }),
    executor: Object.freeze({
      mode: read.oneOf('GRAPHQL_EXECUTOR', ['adaptive', 'graphql-js'] as const, 'adaptive'),
      compileAfterUses: read.integer('GRAPHQL_COMPILE_AFTER_USES', 3, 1, 1_000_000),
      plansMaxBytes: read.integer('COMPILED_PLANS_MAX_BYTES', 32 * MIB, 64 * 1024, 4 * 1024 * MIB),
    }),
  });
  const subscriptions = Object.freeze({
    pollMs: read.integer('SUBSCRIPTION_POLL_MS', 2000, 50, 3_600_000),
    maxBackoffMs: read.integer('SUBSCRIPTION_MAX_BACKOFF_MS', 60_000, 50, 3_600_000),
    listPages: read.integer('SUBSCRIPTION_LIST_PAGES', 2, 1, 100),
    maxPerConnection: read.integer('SUBSCRIPTION_MAX_PER_CONNECTION', 25, 1, 10_000),
    maxCallsPerPoll: read.integer('SUBSCRIPTION_MAX_CALLS_PER_POLL', 10, 1, 10_000),
    maxWatchedPerScope: read.integer('SUBSCRIPTION_MAX_WATCHED_PER_SCOPE', 500, 1, 1_000_000),
    maxTotal: read.integer('SUBSCRIPTION_MAX_TOTAL', 10_000, 0, 10_000_000),
    maxBufferedBytes: read.integer('SUBSCRIPTION_MAX_BUFFERED_BYTES', MIB, 1024, 1024 * MIB),
    initTimeoutMs: read.integer('SUBSCRIPTION_INIT_TIMEOUT_MS', 3000, 100, 600_000),
    keepAliveMs: read.integer('SUBSCRIPTION_KEEPALIVE_MS', 12_000, 0, 3_600_000),
    maxItemsPerEvent: read.integer('SUBSCRIPTION_MAX_ITEMS_PER_EVENT', 20, 0, 100_000),
    idleTimeoutMs: read.integer('SUBSCRIPTION_IDLE_TIMEOUT_MS', 60_000, 100, 3_600_000),
    maxSockets,
    maxSocketsPerAddress: read.integer('SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS', Math.min(256, maxSockets), 0, 1_000_000),
  });
  const redis = Object.freeze({
    url: read.redisUrl('REDIS_URL'),
    cluster: read.flag('REDIS_CLUSTER', false),
    keyPrefix: read.pattern('REDIS_KEY_PREFIX', REDIS_KEY_PREFIX_PATTERN, '1 to 64 letters, digits or "_-.:/" and no braces') ?? 'cse-gw:',
    timeoutMs: read.integer('REDIS_TIMEOUT_MS', 100, 1, 10_000),
    leaseMs: 1000,
    maxValueBytes: read.integer('REDIS_MAX_VALUE_BYTES', 512 * 1024, 1024, 64 * MIB),
    encryptionKeys: read.encryptionKeys('REDIS_ENCRYPTION_KEY'),
    tlsCa: read.pemFile('REDIS_TLS_CA_FILE'),
  });
  const observability = Object.freeze({
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'silent' : 'info'),
    logPretty: read.flag('LOG_PRETTY', false),
    metricsMaxOperations: read.integer('METRICS_MAX_OPERATIONS', 100, 1, 10_000),
  });
  const { connections } = http;
  // Node refuses a headers timeout longer than the request timeout it is part of.
  if (connections.headersTimeoutMs > connections.requestTimeoutMs) {
    read.problem('HTTP_HEADERS_TIMEOUT_MS', String(connections.headersTimeoutMs), `at most HTTP_REQUEST_TIMEOUT_MS (${connections.requestTimeoutMs})`);
  }
  if (subscriptions.maxBackoffMs < subscriptions.pollMs) {
    read.problem('SUBSCRIPTION_MAX_BACKOFF_MS', String(subscriptions.maxBackoffMs), `at least SUBSCRIPTION_POLL_MS (${subscriptions.pollMs})`);
  }
  // WebSockets hold their connection for as long as they stay: below the HTTP cap, they cannot
  // take every connection from HTTP callers.
  if (maxSockets > 0 && maxSockets >= maxConnections) {
    read.problem('SUBSCRIPTION_MAX_SOCKETS', String(maxSockets), `less than HTTP_MAX_CONNECTIONS (${maxConnections})`);
  }
  if (subscriptions.maxSocketsPerAddress > maxSockets) {
    read.problem('SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS', String(subscriptions.maxSocketsPerAddress), `at most SUBSCRIPTION_MAX_SOCKETS (${maxSockets})`);
  }
  const redisUrl = redis.url === undefined ? undefined : new URL(redis.url);
  // A Redis Cluster has database 0 alone, and a seed URL's query options would reach no node.
  if (redis.cluster && redisUrl !== undefined && (!/^\/?0?$/.test(redisUrl.pathname) || redisUrl.search !== '')) {
    read.problem('REDIS_URL', maskPassword(redisUrl), 'database 0 or none, and no query string, with REDIS_CLUSTER=true (a Redis Cluster has one database)');
  }
  // Only a TLS connection checks a certificate: a CA for any other would be silently unused.
  if (redis.tlsCa !== undefined && redisUrl?.protocol !== 'rediss:') {
    read.problem('REDIS_TLS_CA_FILE', read.optional('REDIS_TLS_CA_FILE') ?? '', 'no value unless REDIS_URL is a rediss:// URL');
  }
  read.finish(nodeEnv);
  const warnings = [read.unknownVariables(), ...startupWarnings(upstream, limits)].filter((line) => line !== undefined);
  return Object.freeze({ nodeEnv, upstream, cache, http, limits, subscriptions, redis, observability, warnings: Object.freeze(warnings) });
}

/**
 * Start-up warnings: settings valid together that do not all mean what they say. Not refused:
 * lowering REQUEST_TIMEOUT_MS alone is natural, and the shorter bound wins.
 */
function startupWarnings(
  upstream: { endpoint: string | undefined; resilience: { attemptTimeoutMs: number }; simulator: { settings: Readonly<Record<string, string>> } },
  limits: { operationTimeoutMs: number },
): string[] {
  const warnings: string[] = [];
  const { attemptTimeoutMs } = upstream.resilience;
  if (attemptTimeoutMs > limits.operationTimeoutMs) {
    warnings.push(
      `CSE_TIMEOUT_MS (${attemptTimeoutMs}) is above REQUEST_TIMEOUT_MS (${limits.operationTimeoutMs}): no upstream attempt outlives its operation, so attempts are bounded by REQUEST_TIMEOUT_MS.`,
    );
  }
  const simulatorSettings = Object.keys(upstream.simulator.settings);
  if (upstream.endpoint !== undefined && simulatorSettings.length > 0) {
    warnings.push(`${simulatorSettings.join(', ')} ignored: CSE_ENDPOINT is set, so no simulator is started`);
  }
  return warnings;
}

/** A URL as it may be shown: the password, if any, replaced by `***`. */
export function maskPassword(url: URL): string {
  if (url.password === '') return url.href;
  const masked = new URL(url.href);
  masked.password = '***';
  return masked.href;
}

/**
 * Names Kubernetes sets beside ours for every service (`REDIS_PORT=tcp://…`, `REDIS_SERVICE_HOST`):
 * never a misspelt setting.
 */
const SERVICE_LINK = /_(SERVICE_HOST|SERVICE_PORT(_\w+)?|PORT_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)$|^[A-Z0-9_]+_PORT$/;

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** The settings nearest `name` by edit distance (at most 2), or of which it is the beginning. */
function nearest(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = candidate.startsWith(name) ? 1 : editDistance(name, candidate);
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Reads variables, collecting every problem instead of stopping at the first: an operator fixing
 * a deployment learns all that is wrong with it in one start-up. A bad value reads as its default
 * meanwhile, so the values derived from it are still computed; `finish` throws if anything was bad.
 */
class EnvReader {
  private readonly problems: ConfigProblem[] = [];
  /** Every variable asked for: the gateway's settings. */
  private readonly known = new Set<string>();

  constructor(private readonly env: Env) {}

  problem(variable: string, value: string, expected: string): void {
    this.problems.push({ variable, value, expected });
  }

  finish(nodeEnv: NodeEnv): void {
    if (this.problems.length === 0) return;
    const error = new ConfigError(this.problems);
    error.nodeEnv = nodeEnv;
    throw error;
  }

  /**
   * One line naming the variables set with one of our settings' prefixes (`CSE_`, `REDIS_` …) that
   * are no setting, each with the setting it is likely a misspelling of: such a variable is
   * otherwise silently ignored.
   */
  unknownVariables(): string | undefined {
    const known = [...this.known];
    const prefixes = new Set(known.filter((name) => name.includes('_') && !name.startsWith('NODE_')).map((name) => name.slice(0, name.indexOf('_') + 1)));
    const unknown = Object.keys(this.env)
      .filter((name) => !this.known.has(name) && !SERVICE_LINK.test(name) && [...prefixes].some((prefix) => name.startsWith(prefix)))
      .sort();
    if (unknown.length === 0) return undefined;
    const named = unknown.map((name) => {
      const near = nearest(name, known);
      return near === undefined ? name : `${name} (did you mean ${near}?)`;
    });
    return `unknown settings ignored: ${named.join(', ')}`;
  }

  optional(name: string): string | undefined {
    this.known.add(name);
    const raw = this.env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  }

  /** The variables of `names` that are set, as they are. */
  all(names: readonly string[]): Readonly<Record<string, string>> {
    const values: Record<string, string> = {};
    for (const name of names) {
      const raw = this.optional(name);
      if (raw !== undefined) values[name] = raw;
    }
    return Object.freeze(values);
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
    const url = parseUrl(raw);
    if (url === undefined) return this.refuse(name, raw, 'an absolute http(s) URL', undefined);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '' || url.username !== '') {
      return this.refuse(name, raw, 'an absolute http(s) URL without credentials, query or fragment', undefined);
    }
    return url.href.replace(/\/+$/, '');
  }

  /** A refused URL is shown with its password masked: the ConfigError's message is logged. */
  redisUrl(name: string): string | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return undefined;
    const url = parseUrl(raw);
    if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
      return this.refuse(name, url === undefined ? '(not a URL)' : maskPassword(url), 'a redis:// or rediss:// URL', undefined);
    }
    return raw;
  }

  /** A refusal never shows the value (the ConfigError's message is logged): only which key is wrong. */
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

  /** A comma-separated list of exact origins (`https://app.example.com`), or `*`. */
  origins(name: string): readonly string[] | '*' {
    const raw = this.optional(name);
    if (raw === undefined) return Object.freeze([]);
    if (raw === '*') return '*';
    const list = raw.split(',').map((part) => part.trim()).filter((part) => part !== '');
    for (const origin of list) {
      const parsed = parseUrl(origin);
      if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.origin !== origin) {
        const expected = 'a comma-separated list of origins like https://app.example.com (scheme, host, optional port; no path or trailing slash), or *';
        return this.refuse(name, raw, expected, Object.freeze([]));
      }
    }
    return Object.freeze(list);
  }

  /** Read now: a bad file fails the start naming the variable, not the first Redis connection later. */
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
