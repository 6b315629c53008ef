import { parseEncryptionKeys, type EncryptionKeys } from './encryptionKeys';
import { readSettingFile } from './settingFile';

// The one reader of the environment and home of every default (docs/configuration.md).
export type GatewayConfig = ReturnType<typeof loadConfig>;
export type Explorer = GatewayConfig['http']['explorer'];
export type LogLevel = GatewayConfig['observability']['logLevel'];
export type ConfigProblem = Readonly<{ variable: string; value: string; expected: string }>;

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  /** How a failed start writes its line (JSON in production). */
  nodeEnv?: GatewayConfig['nodeEnv'];

  constructor(variable: string | readonly ConfigProblem[], value = '', expected = '') {
    const stated = typeof variable === 'string' ? [{ variable, value, expected }] : variable;
    // The message is printed and logged: a value never shows a URL's credentials.
    const problems = stated.map((problem) => ({ ...problem, value: maskCredentials(problem.value) }));
    const lines = problems.map((p) => `${p.variable}=${JSON.stringify(p.value)}: expected ${p.expected}.`);
    super(`Invalid configuration:${lines.length === 1 ? ` ${lines[0]}` : `\n  ${lines.join('\n  ')}`}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Items per page without `first` or `last`, as the schema promises; `@listSize`'s assumedSize. */
export const DEFAULT_PAGE_SIZE = 20;
/** The largest CSE_MAX_PAGE_SIZE may be: the cursor bound (pagination/cursor.ts) leaves room for two such pages. */
export const LARGEST_PAGE_SIZE = 1000;
export const PROJECT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const MIB = 1024 * 1024;
/** Far above any bundle of CA certificates: a larger file is something else. */
const CA_FILE_MAX_BYTES = MIB;
const DAY_MS = 86_400_000;
const SIMULATOR_SETTINGS = ['PORT', 'SCENARIO', 'LIVE', 'LIVE_OPTIONS'].map((name) => `SIMULATOR_${name}`);
/** No braces: they would change the Redis Cluster hash tag that keeps a lease and its value in one slot. */
const KEY_PREFIX = /^[\w\-.:/]{1,64}$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loadConfig(env: Env) {
  const read = new EnvReader(env);
  const nodeEnv = read.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const production = nodeEnv === 'production';
  const persistedQueries = read.oneOf('PERSISTED_QUERIES', ['apq', 'safelist', 'off'] as const, 'apq');
  const endpoint = read.parse('CSE_ENDPOINT', endpointOf);
  const maxPageSize = read.integer('CSE_MAX_PAGE_SIZE', 100, 1, LARGEST_PAGE_SIZE);
  const maxInFlight = read.integer('CSE_MAX_INFLIGHT', 64, 1, 10_000);
  const maxQueue = read.integer('CSE_MAX_QUEUE', 256, 0, 100_000);
  const poolConnections = read.integer('CSE_CONNECTIONS', 32, 1, 1024);
  const share = (name: string, whole: number, divisor: number, min: number) =>
    read.integer(name, Math.min(whole, Math.max(1, Math.floor(whole / divisor))), min, whole);
  const perCaller = Object.freeze({
    inFlight: share('CSE_MAX_INFLIGHT_PER_CALLER', maxInFlight, 2, 1),
    queue: share('CSE_MAX_QUEUE_PER_CALLER', maxQueue, 2, 0),
  });
  const strangersInFlight = Math.min(perCaller.inFlight, Math.max(1, Math.floor(poolConnections / 4)));
  const maxConnections = read.integer('HTTP_MAX_CONNECTIONS', 2048, 1, 1_000_000);
  const maxSockets = read.integer('SUBSCRIPTION_MAX_SOCKETS', Math.floor(maxConnections / 2), 0, 1_000_000);
  const maxConnectionsPerAddress = read.integer('HTTP_MAX_CONNECTIONS_PER_ADDRESS', Math.max(1, Math.floor(maxConnections / 4)), 1, 1_000_000);
  // Below the address's share of connections (half of it): past it the upgrade would meet the connection
  // cap first (503, not 429), and the address's plain requests would find no connection.
  const perAddress = Math.min(256, maxSockets, Math.floor(maxConnectionsPerAddress / 2));
  // Without a simulator to start, its settings are named as ignored, not checked.
  const simulatorSet = SIMULATOR_SETTINGS.filter((name) => read.optional(name) !== undefined);
  const sim = endpoint === undefined ? read : new EnvReader({});
  const live = sim.flag('SIMULATOR_LIVE', true);
  const upstream = Object.freeze({
    endpoint,
    projectId: read.pattern('CSE_PROJECT_ID', PROJECT_ID_PATTERN, '1 to 64 letters, digits, "_" or "-"'),
    pageBase: (read.oneOf('CSE_PAGE_BASE', ['0', '1'] as const, '1') === '0' ? 0 : 1) as 0 | 1,
    timeFormat: read.oneOf('CSE_TIME_FORMAT', ['epoch-ms', 'epoch-s', 'iso-8601'] as const, 'epoch-ms'),
    paging: Object.freeze({ maxPageSize, defaultPageSize: Math.min(DEFAULT_PAGE_SIZE, maxPageSize) }),
    requestConcurrency: read.integer('CSE_REQUEST_CONCURRENCY', 8, 1, 256),
    poolConnections,
    resilience: Object.freeze({
      attemptTimeoutMs: read.integer('CSE_TIMEOUT_MS', 5000, 1, 600_000),
      maxResponseBytes: read.integer('CSE_MAX_RESPONSE_BYTES', 4 * MIB, 64 * 1024, 256 * MIB),
      retries: read.integer('CSE_RETRIES', 2, 0, 10),
      retryBaseMs: read.integer('CSE_RETRY_BASE_MS', 100, 1, 60_000),
      maxInFlight,
      maxQueue,
      perEngine: Object.freeze({
        inFlight: share('CSE_MAX_INFLIGHT_PER_ENGINE', maxInFlight, 4, 1),
        queue: share('CSE_MAX_QUEUE_PER_ENGINE', maxQueue, 4, 0),
      }),
      perCaller,
      // Made-up tokens together: a caller's share, at most a quarter of the pool (slow 401s hold no more),
      // and a start rate: an upstream that answers 401 at once would otherwise take them as fast as they come.
      strangers: Object.freeze({
        inFlight: strangersInFlight,
        queue: perCaller.queue,
        callsPerSecond: read.integer('CSE_MAX_STRANGER_CALLS_PER_S', 50, 1, 100_000),
        // One client address a quarter of the queue (IPv6 per /64, as its connections): its flood is shed past
        // that at once, and a new caller from elsewhere finds a place (served by address in turn, it waits behind
        // a call of each flooding address). The slots stay whole: a new user's own calls, held by a slow
        // upstream, would queue behind a quarter.
        perAddress: Object.freeze({ inFlight: strangersInFlight, queue: Math.max(1, Math.floor(perCaller.queue / 4)) }),
      }),
      engineBreakerFailures: read.integer('CSE_BREAKER_FAILURES', 5, 1, 10_000),
      upstreamBreakerFailures: read.integer('CSE_UPSTREAM_BREAKER_FAILURES', 10, 1, 10_000),
      breakerOpenMs: read.integer('CSE_BREAKER_OPEN_MS', 10_000, 1, 3_600_000),
    }),
    credentials: Object.freeze({
      rejectionTtlMs: read.integer('CSE_AUTH_REJECTION_TTL_MS', 10_000, 0, 3_600_000),
      recheckMs: read.integer('CACHE_AUTH_RECHECK_MS', 60_000, 0, DAY_MS),
    }),
    simulator: Object.freeze({
      // Fake data served in production by accident is worse than no start: there it must be asked for.
      allowed: read.flag('EMBEDDED_SIMULATOR', !production),
      port: sim.integer('SIMULATOR_PORT', undefined, 0, 65535),
      // The simulator checks the scenario's name and the live options' fields: it knows them.
      scenario: sim.optional('SIMULATOR_SCENARIO'),
      live,
      liveOptions: sim.parse('SIMULATOR_LIVE_OPTIONS', liveOptionsOf),
    }),
  });
  const cache = Object.freeze({
    ttls: Object.freeze({
      listMs: read.integer('CACHE_LIST_TTL_MS', 2000, 0, DAY_MS),
      engineMs: read.integer('CACHE_ENGINE_TTL_MS', 10_000, 0, DAY_MS),
      jobMs: read.integer('CACHE_JOB_TTL_MS', 2000, 0, DAY_MS),
      terminalJobMs: read.integer('CACHE_TERMINAL_JOB_TTL_MS', 600_000, 0, DAY_MS),
    }),
    maxEntries: read.integer('CACHE_MAX_ENTRIES', 10_000, 1, 10_000_000),
    maxBytes: read.integer('CACHE_MAX_BYTES', 64 * MIB, 1024, 16 * 1024 * MIB),
    wholeResponseMaxBytes: read.integer('OPERATION_CACHE_MAX_BYTES', 16 * MIB, 1024, 16 * 1024 * MIB),
  });
  const http = Object.freeze({
    port: read.integer('PORT', 4000, 0, 65535),
    host: read.optional('HOST'),
    // 9464 is OpenTelemetry's Prometheus port.
    metricsPort: read.integer('METRICS_PORT', production ? 9464 : undefined, 0, 65535),
    maxBodyBytes: read.integer('MAX_BODY_BYTES', 256 * 1024, 1024, 64 * MIB),
    allowBatching: read.flag('ALLOW_BATCHING', false),
    maxBatchOperations: read.integer('MAX_BATCH_OPERATIONS', 10, 1, 1000),
    corsOrigins: read.parse('CORS_ORIGINS', originsOf, Object.freeze([] as string[])),
    explorer: read.oneOf('EXPLORER', ['sandbox', 'graphiql', 'off'] as const, production ? 'off' : 'sandbox'),
    connections: Object.freeze({
      headersTimeoutMs: read.integer('HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
      requestTimeoutMs: read.integer('HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
      keepAliveTimeoutMs: read.integer('HTTP_KEEP_ALIVE_TIMEOUT_MS', 5000, 100, 600_000),
      maxConnections,
      maxConnectionsPerAddress,
    }),
    // A load balancer must see /readyz fail before connections are refused.
    shutdownDelayMs: read.integer('SHUTDOWN_DELAY_MS', production ? 5000 : 0, 0, 600_000),
    shutdownTimeoutMs: read.integer('SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
  });
  const limits = Object.freeze({
    operationTimeoutMs: read.integer('REQUEST_TIMEOUT_MS', 15_000, 1, 600_000),
    maxDepth: read.integer('MAX_DEPTH', 12, 1, 100),
    maxAliases: read.integer('MAX_ALIASES', 30, 0, 1000),
    maxAliasLength: read.integer('MAX_ALIAS_LENGTH', 128, 1, 1_000_000),
    maxTokens: read.integer('MAX_TOKENS', 2000, 100, 1_000_000),
    maxUpstreamCalls: read.integer('MAX_UPSTREAM_CALLS', 50, 1, 100_000),
    budget: Object.freeze({
      maxUpstreamBytes: read.integer('OPERATION_MAX_UPSTREAM_BYTES', 16 * MIB, 64 * 1024, 4 * 1024 * MIB),
      maxListItems: read.integer('MAX_LIST_ITEMS', 1000, 1, 1_000_000),
      /** Unset: derived from the bytes bound (answerBounds). */
      maxConcurrent: read.integer('OPERATION_MAX_CONCURRENT', undefined, 1, 100_000),
    }),
    enableIntrospection: read.flag('ENABLE_INTROSPECTION', !production),
    persistedQueries,
    persistedQueriesManifest: read.optional('PERSISTED_QUERIES_MANIFEST'),
    apqCacheMaxBytes: 8 * MIB,
    documentCacheMaxBytes: read.integer('DOCUMENT_CACHE_MAX_BYTES', 32 * MIB, 64 * 1024, 4 * 1024 * MIB),
    entities: Object.freeze({
      engineListThreshold: 3,
      maxListPages: read.integer('FEDERATION_ENGINE_LIST_MAX_PAGES', 10, 1, 1000),
    }),
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
    maxSocketsPerAddress: read.integer('SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS', perAddress, 0, 1_000_000),
  });
  const redisUrl = read.parse('REDIS_URL', redisUrlOf);
  const redis = Object.freeze({
    url: redisUrl === undefined ? undefined : read.optional('REDIS_URL'),
    cluster: read.flag('REDIS_CLUSTER', false),
    keyPrefix:
      read.pattern('REDIS_KEY_PREFIX', KEY_PREFIX, '1 to 64 letters, digits or _-.:/ (no braces)') ?? 'cse-gw:',
    timeoutMs: read.integer('REDIS_TIMEOUT_MS', 100, 1, 10_000),
    leaseMs: 1000,
    maxValueBytes: read.integer('REDIS_MAX_VALUE_BYTES', 512 * 1024, 1024, 64 * MIB),
    encryptionKeys: read.parse('REDIS_ENCRYPTION_KEY', encryptionKeysOf),
    tlsCa: read.parse('REDIS_TLS_CA_FILE', pemFileOf),
  });
  const observability = Object.freeze({
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'silent' : 'info'),
    logPretty: read.flag('LOG_PRETTY', false),
    metricsMaxOperations: read.integer('METRICS_MAX_OPERATIONS', 100, 1, 10_000),
  });
  const check = (bad: unknown, variable: string, expected: string, value?: unknown) =>
    bad && read.problem(variable, expected, value);
  const { headersTimeoutMs: headers, requestTimeoutMs: request } = http.connections;
  const { pollMs: poll, maxBackoffMs: backoff, maxSocketsPerAddress: addressCap } = subscriptions;
  // Node refuses a headers timeout longer than the request timeout it is part of.
  const atMost = `at most HTTP_REQUEST_TIMEOUT_MS (${request})`;
  check(headers > request, 'HTTP_HEADERS_TIMEOUT_MS', atMost, headers);
  check(backoff < poll, 'SUBSCRIPTION_MAX_BACKOFF_MS', `at least SUBSCRIPTION_POLL_MS (${poll})`, backoff);
  // WebSockets hold their connection while they stay: below the HTTP cap, they cannot take every one.
  const below = `less than HTTP_MAX_CONNECTIONS (${maxConnections})`;
  check(maxSockets > 0 && maxSockets >= maxConnections, 'SUBSCRIPTION_MAX_SOCKETS', below, maxSockets);
  const connectionsPerAddress = http.connections.maxConnectionsPerAddress;
  const withinTable = `at most HTTP_MAX_CONNECTIONS (${maxConnections})`;
  check(connectionsPerAddress > maxConnections, 'HTTP_MAX_CONNECTIONS_PER_ADDRESS', withinTable, connectionsPerAddress);
  const within = `at most SUBSCRIPTION_MAX_SOCKETS (${maxSockets}), and less than HTTP_MAX_CONNECTIONS_PER_ADDRESS (${connectionsPerAddress})`;
  check(addressCap > maxSockets || (addressCap > 0 && addressCap >= connectionsPerAddress), 'SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS', within, addressCap);
  // The second listener to start would fail, blamed on a setting that may not be the one to change.
  const ports = [['PORT', http.port], ['METRICS_PORT', http.metricsPort], ['SIMULATOR_PORT', upstream.simulator.port]] as const;
  for (const [index, [variable, port]] of ports.entries()) {
    const taken = port ? ports.slice(0, index).find(([, other]) => other === port)?.[0] : undefined;
    if (taken) read.problem(variable, `a port other than ${taken}'s (${port}), or 0 for any free one`, port);
  }
  // A Redis Cluster has database 0 alone, and a seed URL's query options would reach no node.
  if (redis.cluster && redisUrl && (!/^\/?0?$/.test(redisUrl.pathname) || redisUrl.search !== '')) {
    const expected =
      'database 0 or none, and no query string, with REDIS_CLUSTER=true (a Redis Cluster has one database)';
    read.problem('REDIS_URL', expected, redisUrl.href);
  }
  // Only a TLS connection checks a certificate: a CA for any other would be silently unused.
  const tls = redis.tlsCa !== undefined && redisUrl?.protocol !== 'rediss:';
  check(tls, 'REDIS_TLS_CA_FILE', 'no value unless REDIS_URL is a rediss:// URL');
  const { persistedQueriesManifest: manifest } = limits;
  const needed = 'the path of a persisted query list manifest (PERSISTED_QUERIES=safelist needs one)';
  check(persistedQueries === 'safelist' && !manifest, 'PERSISTED_QUERIES_MANIFEST', needed);
  const unneeded = 'no value unless PERSISTED_QUERIES=safelist';
  check(persistedQueries !== 'safelist' && manifest, 'PERSISTED_QUERIES_MANIFEST', unneeded);
  const liveOff = 'no value while SIMULATOR_LIVE=false turns live mode off';
  check(!live && upstream.simulator.liveOptions, 'SIMULATOR_LIVE_OPTIONS', liveOff);
  if (read.problems.length > 0) throw Object.assign(new ConfigError(read.problems), { nodeEnv });
  const { attemptTimeoutMs: attempt } = upstream.resilience;
  const warnings = [
    read.unknownVariables(),
    // Warned, not refused: lowering REQUEST_TIMEOUT_MS alone is natural.
    attempt > limits.operationTimeoutMs &&
      `CSE_TIMEOUT_MS (${attempt}) is above REQUEST_TIMEOUT_MS (${limits.operationTimeoutMs}): ` +
        'no upstream attempt outlives its operation, so attempts are bounded by REQUEST_TIMEOUT_MS.',
    endpoint !== undefined && simulatorSet.length > 0 &&
      `${simulatorSet.join(', ')} ignored: CSE_ENDPOINT is set, so no simulator is started`,
  ].filter((line) => typeof line === 'string');
  const sections = { upstream, cache, http, limits, subscriptions, redis, observability };
  return Object.freeze({ nodeEnv, ...sections, warnings: Object.freeze(warnings) });
}

/**
 * `text` with the user and password of each URL in it (a list of them too) as `***`: up to the
 * last `@` before the host's end, as a URL parser takes it, so an `@` in a password hides nothing.
 */
export function maskCredentials(text: string): string {
  return text.replace(/([a-z][a-z\d+.-]*:\/\/)[^/?#]*@/gi, '$1***@');
}

/** Names Kubernetes sets beside ours for every service (`REDIS_PORT=tcp://…`): never a misspelt setting. */
const SERVICE_LINK =
  /_(SERVICE_HOST|SERVICE_PORT(_\w+)?|PORT_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)$|^[A-Z0-9_]+_PORT$/;

/** The setting nearest `name` by edit distance (at most 2), or of which it is the beginning. */
function nearest(name: string, known: readonly string[]): string | undefined {
  const distance = (other: string) => (other.startsWith(name) ? 1 : editDistance(name, other));
  return known.filter((other) => distance(other) <= 2).sort((a, b) => distance(a) - distance(b))[0];
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** `shown`: what a refusal may show of the value (the message is logged). */
class Refusal {
  constructor(readonly expected: string, readonly shown?: string) {}
}

/** Credentials are refused: the gateway sends each caller's token, so a user in the URL is a mistake. */
function endpointOf(raw: string): string | Refusal {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (url && /^https?:$/.test(url.protocol) && !url.search && !url.hash && !url.username && !url.password) {
    return url.href.replace(/\/+$/, '');
  }
  return new Refusal(
    "an absolute http(s) URL without user or password (the gateway sends each caller's token), query or fragment",
  );
}

/** The client decodes the user and password: one it cannot decode would fail later, naming no setting. */
function redisUrlOf(raw: string): URL | Refusal {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (!url || !/^rediss?:$/.test(url.protocol) || url.hostname === '') {
    return new Refusal('a redis:// or rediss:// URL', url?.href ?? '(not a URL)');
  }
  if (decodes(url.username) && decodes(url.password)) return url;
  return new Refusal('a redis:// or rediss:// URL whose user and password are percent-encoded (%40 for @)', url.href);
}

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

function encryptionKeysOf(raw: string): EncryptionKeys | Refusal {
  const parsed = parseEncryptionKeys(raw);
  if ('keys' in parsed) return parsed.keys;
  const expected = 'one or more comma-separated keys of 32 random bytes, each in base64 (44 characters)';
  return new Refusal(`${expected} or base64url (43); ${parsed.problem}`, '(not shown)');
}

function originsOf(raw: string): readonly string[] | '*' | Refusal {
  if (raw === '*') return '*';
  const list = raw.split(',').map((part) => part.trim()).filter((part) => part !== '');
  const isOrigin = (text: string) =>
    /^https?:\/\//.test(text) && URL.canParse(text) && new URL(text).origin === text;
  if (list.every(isOrigin)) return Object.freeze(list);
  return new Refusal(
    'a comma-separated list of origins like https://app.example.com (scheme, host, optional port; ' +
      'no path or trailing slash), or *',
  );
}

function liveOptionsOf(raw: string): object | Refusal {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch {
    // refused below
  }
  return new Refusal('a JSON object of live options, as `npm run simulator -- --live-options` takes');
}

/** Read now: a bad file fails the start naming the variable, not the first Redis connection later. */
function pemFileOf(path: string): string | Refusal {
  const file = readSettingFile(path, CA_FILE_MAX_BYTES);
  if ('problem' in file) return new Refusal(`a readable PEM file of CA certificates, at most 1 MiB (${file.problem})`);
  if (file.text.includes('-----BEGIN CERTIFICATE-----')) return file.text;
  return new Refusal('a PEM file of CA certificates (-----BEGIN CERTIFICATE-----)');
}

/** Collects every problem; a bad value reads as its default meanwhile, so derived values still compute. */
class EnvReader {
  readonly problems: ConfigProblem[] = [];
  private readonly known = new Set<string>();

  constructor(private readonly env: Env) {}

  /** `value` is the variable's by default: a derived one says which value was refused. */
  problem(variable: string, expected: string, value: unknown = this.optional(variable) ?? ''): void {
    this.problems.push({ variable, value: String(value), expected });
  }

  /** Variables with one of our settings' prefixes that are no setting, each with its likely spelling. */
  unknownVariables(): string | undefined {
    const known = [...this.known];
    const prefixes = known.map((name) => /^[^_]+_/.exec(name)?.[0]).filter((prefix) => prefix !== 'NODE_');
    const ours = (name: string) => prefixes.some((prefix) => prefix !== undefined && name.startsWith(prefix));
    const unknown = Object.keys(this.env)
      .filter((name) => !this.known.has(name) && !SERVICE_LINK.test(name) && ours(name))
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
    const raw = this.env[name]?.trim();
    return raw === '' ? undefined : raw;
  }

  parse<T, F = undefined>(name: string, parse: (raw: string) => T | Refusal, fallback?: F): T | F {
    const raw = this.optional(name);
    const value = raw === undefined ? undefined : parse(raw);
    if (value === undefined) return fallback as F;
    if (!(value instanceof Refusal)) return value;
    this.problem(name, value.expected, value.shown ?? raw);
    return fallback as F;
  }

  integer<F extends number | undefined>(name: string, fallback: F, min: number, max: number): number | F {
    const refusal = new Refusal(`an integer from ${min} to ${max}`);
    const valid = (raw: string) => /^\d+$/.test(raw) && +raw >= min && +raw <= max;
    return this.parse(name, (raw) => (valid(raw) ? +raw : refusal), fallback);
  }

  oneOf<const T extends readonly string[]>(name: string, allowed: T, fallback: T[number]): T[number] {
    const refusal = new Refusal(`one of ${allowed.join(', ')}`);
    return this.parse(name, (raw) => (allowed.includes(raw) ? (raw as T[number]) : refusal), fallback);
  }

  flag(name: string, fallback: boolean): boolean {
    return this.oneOf(name, ['true', 'false'] as const, fallback ? 'true' : 'false') === 'true';
  }

  pattern(name: string, re: RegExp, expected: string): string | undefined {
    return this.parse(name, (raw) => (re.test(raw) ? raw : new Refusal(expected)));
  }
}
