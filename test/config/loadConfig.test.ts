import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/loadConfig';

/** The problems of a refused configuration; throws when it is accepted. */
function refused(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`accepted: ${JSON.stringify(env)}`);
}

/** The object `paths` describes: `{ 'http.port': 1 }` is `{ http: { port: 1 } }`. */
function at(paths: Record<string, unknown>): Record<string, unknown> {
  const root: Record<string, any> = {};
  for (const [path, value] of Object.entries(paths)) {
    const keys = path.split('.');
    let node = root;
    for (const key of keys.slice(0, -1)) node = node[key] ??= {};
    node[keys.at(-1)!] = value;
  }
  return root;
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual(
      at({
        'http.port': 4000,
        'http.metricsPort': undefined,
        'http.host': undefined,
        'upstream.endpoint': undefined,
        'upstream.projectId': undefined,
        'upstream.pageBase': 1,
        'upstream.timeFormat': 'epoch-ms',
        'upstream.paging.maxPageSize': 100,
        'upstream.paging.defaultPageSize': 20,
        'upstream.requestConcurrency': 8,
        'upstream.poolConnections': 32,
        'upstream.resilience.attemptTimeoutMs': 5000,
        'upstream.resilience.maxResponseBytes': 4194304,
        'limits.operationTimeoutMs': 15000,
        'upstream.resilience.retries': 2,
        'upstream.resilience.retryBaseMs': 100,
        'upstream.resilience.maxInFlight': 64,
        'upstream.resilience.maxQueue': 256,
        'upstream.resilience.perEngine.inFlight': 16,
        'upstream.resilience.perEngine.queue': 64,
        'upstream.resilience.perCaller.inFlight': 32,
        'upstream.resilience.perCaller.queue': 128,
        'upstream.resilience.strangers.inFlight': 8,
        'upstream.resilience.strangers.queue': 128,
        'upstream.resilience.strangers.callsPerSecond': 50,
        'upstream.resilience.strangers.perAddress.inFlight': 8,
        'upstream.resilience.strangers.perAddress.queue': 32,
        'upstream.credentials.rejectionTtlMs': 10000,
        'upstream.resilience.engineBreakerFailures': 5,
        'upstream.resilience.upstreamBreakerFailures': 10,
        'upstream.resilience.breakerOpenMs': 10000,
        'upstream.credentials.recheckMs': 60000,
        'cache.ttls.listMs': 2000,
        'cache.ttls.engineMs': 10000,
        'cache.ttls.jobMs': 2000,
        'cache.ttls.terminalJobMs': 600000,
        'cache.maxEntries': 10000,
        'cache.maxBytes': 67108864,
        'cache.wholeResponseMaxBytes': 16777216,
        nodeEnv: 'development',
        'observability.logLevel': 'info',
        'observability.logPretty': false,
        'observability.metricsMaxOperations': 100,
        'http.shutdownDelayMs': 0,
        'http.shutdownTimeoutMs': 10000,
        'subscriptions.pollMs': 2000,
        'subscriptions.maxBackoffMs': 60000,
        'subscriptions.listPages': 2,
        'subscriptions.maxPerConnection': 25,
        'subscriptions.maxCallsPerPoll': 10,
        'subscriptions.maxWatchedPerScope': 500,
        'subscriptions.maxTotal': 10000,
        'subscriptions.maxBufferedBytes': 1048576,
        'subscriptions.initTimeoutMs': 3000,
        'subscriptions.keepAliveMs': 12000,
        'subscriptions.maxItemsPerEvent': 20,
        'subscriptions.idleTimeoutMs': 60000,
        'subscriptions.maxSockets': 1024,
        'subscriptions.maxSocketsPerAddress': 256,
        'http.maxBodyBytes': 262144,
        'http.connections.headersTimeoutMs': 10000,
        'http.connections.requestTimeoutMs': 30000,
        'http.connections.keepAliveTimeoutMs': 5000,
        'http.connections.maxConnections': 2048,
        'http.connections.maxConnectionsPerAddress': 512,
        'limits.maxDepth': 12,
        'limits.maxAliases': 30,
        'limits.maxAliasLength': 128,
        'limits.maxTokens': 2000,
        'limits.maxUpstreamCalls': 50,
        'limits.budget.maxUpstreamBytes': 16777216,
        'limits.budget.maxListItems': 1000,
        'upstream.simulator.allowed': true,
        'limits.enableIntrospection': true,
        'http.explorer': 'sandbox',
        'http.corsOrigins': [],
        'http.allowBatching': false,
        'http.maxBatchOperations': 10,
        'limits.persistedQueries': 'apq',
        'limits.persistedQueriesManifest': undefined,
        'limits.documentCacheMaxBytes': 33554432,
        'limits.entities.maxListPages': 10,
        'limits.executor.mode': 'adaptive',
        'limits.executor.compileAfterUses': 3,
        'limits.executor.plansMaxBytes': 33554432,
        'redis.url': undefined,
        'redis.cluster': false,
        'redis.keyPrefix': 'cse-gw:',
        'redis.timeoutMs': 100,
        'redis.maxValueBytes': 524288,
        'redis.encryptionKeys': undefined,
        'redis.tlsCa': undefined,
        'limits.apqCacheMaxBytes': 8388608,
        'limits.entities.engineListThreshold': 3,
        'redis.leaseMs': 1000,
        'upstream.simulator.port': undefined,
        'upstream.simulator.scenario': undefined,
        'upstream.simulator.live': true,
        'upstream.simulator.liveOptions': undefined,
        warnings: [],
      }),
    );
  });

  it('reads REDIS_ENCRYPTION_KEY (one key or several, base64 or base64url) and never shows it', () => {
    const first = Buffer.alloc(32, 7);
    const second = Buffer.alloc(32, 200);
    const config = loadConfig({ REDIS_ENCRYPTION_KEY: `${first.toString('base64')},${second.toString('base64url')}` });
    expect(config.redis.encryptionKeys?.reveal()).toEqual([first, second]);
    expect(JSON.stringify(config)).not.toContain(first.toString('base64'));
    expect(JSON.stringify(config)).toContain('"encryptionKeys":"[redacted]"');
    expect(require('node:util').inspect(config)).not.toContain(second.toString('base64url'));
  });

  it.each([
    ['a passphrase', 'my-secret-passphrase', 'the key (20 characters) is not 32 bytes'],
    ['16 bytes', Buffer.alloc(16, 1).toString('base64'), 'the key (24 characters) is not 32 bytes'],
    ['a second key that is bad', `${Buffer.alloc(32, 1).toString('base64')},hunter2hunter2`, 'key 2 of 2 (14 characters) is not 32 bytes'],
  ])('refuses REDIS_ENCRYPTION_KEY as %s, naming the problem without the value', (_name, value, problem) => {
    let error: unknown;
    try {
      loadConfig({ REDIS_ENCRYPTION_KEY: value, REDIS_TIMEOUT_MS: 'x' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { message, problems } = error as ConfigError;
    expect(problems.map((entry) => entry.variable)).toEqual(['REDIS_TIMEOUT_MS', 'REDIS_ENCRYPTION_KEY']);
    expect(message).toContain(problem);
    expect(message).toContain('REDIS_ENCRYPTION_KEY="(not shown)"');
    for (const part of value.split(',')) expect(message).not.toContain(part.slice(0, 10));
    expect(JSON.stringify(problems)).not.toContain(value.slice(0, 10));
  });

  it('reads the Redis settings, and never shows a refused URL\'s password', () => {
    const config = loadConfig({ REDIS_URL: 'rediss://gw:s3cret@redis.internal:6380/2', REDIS_KEY_PREFIX: 'prod-gw:', REDIS_TIMEOUT_MS: '50' });
    expect(config).toMatchObject(at({ 'redis.url': 'rediss://gw:s3cret@redis.internal:6380/2', 'redis.keyPrefix': 'prod-gw:', 'redis.timeoutMs': 50 }));
    let error: unknown;
    try {
      loadConfig({ REDIS_URL: 'http://gw:s3cret@redis.internal:6379', REDIS_KEY_PREFIX: 'a{b}' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect((error as ConfigError).problems.map((problem) => problem.variable)).toEqual(['REDIS_URL', 'REDIS_KEY_PREFIX']);
    expect(message).toContain('http://***@redis.internal:6379');
    expect(message).not.toContain('s3cret');
    expect(message).not.toContain('gw');
  });

  it.each([
    ['a user and password', 'https://alice:s3cretpw@cse.example.com'],
    ['a password alone', 'https://:s3cretpw@cse.example.com'],
    ['a user alone', 'https://s3cretpw@cse.example.com/prefix'],
    ['an @ in the password', 'https://alice:s3cr@tpw@cse.example.com'],
    ['a URL that does not parse', 'https://alice:s3cretpw@cse example.com'],
  ])('refuses CSE_ENDPOINT with %s, showing neither (the gateway sends the caller\'s token)', (_what, value) => {
    const { message, problems } = refused({ CSE_ENDPOINT: value, NODE_ENV: 'production' });
    expect(problems.map((problem) => problem.variable)).toEqual(['CSE_ENDPOINT']);
    expect(message).toMatch(/^Invalid configuration: CSE_ENDPOINT="https:\/\/\*\*\*@cse.example.com/);
    expect(message).toContain('without user or password');
    expect(message).not.toMatch(/s3cr|alice/);
    expect(JSON.stringify(problems)).not.toMatch(/s3cr|alice/);
  });

  it('masks the credentials of every URL a refused value holds, whatever the variable', () => {
    const { message } = refused({ CORS_ORIGINS: 'https://a.example.com,https://u:s3cret@b.example.com/', LOG_LEVEL: 'redis://:s3cret@h' });
    expect(message).toContain('CORS_ORIGINS="https://a.example.com,https://***@b.example.com/"');
    expect(message).toContain('LOG_LEVEL="redis://***@h"');
    expect(message).not.toContain('s3cret');
  });

  it.each([
    ['password', 'redis://:p%ZZ@redis.internal:6379'],
    ['user', 'rediss://%E0%A4%A@redis.internal:6380'],
  ])('refuses a REDIS_URL whose %s does not percent-decode, masked, instead of failing later naming no variable', (_what, value) => {
    const { message, problems } = refused({ REDIS_URL: value });
    expect(problems.map((problem) => problem.variable)).toEqual(['REDIS_URL']);
    expect(message).toContain('@redis.internal:63');
    expect(message).toContain('percent-encoded');
    expect(message).not.toMatch(/%ZZ|%E0/);
    expect(loadConfig({ REDIS_URL: 'redis://gw:p%40ss%25@redis.internal:6379' }).redis.url).toBe('redis://gw:p%40ss%25@redis.internal:6379');
  });

  it.each([
    [{ PORT: '4000', METRICS_PORT: '4000' }, 'METRICS_PORT="4000": expected a port other than PORT\'s (4000)'],
    [{ PORT: '4010', SIMULATOR_PORT: '4010' }, 'SIMULATOR_PORT="4010": expected a port other than PORT\'s (4010)'],
    [{ METRICS_PORT: '9100', SIMULATOR_PORT: '9100' }, 'SIMULATOR_PORT="9100": expected a port other than METRICS_PORT\'s (9100)'],
    [{ NODE_ENV: 'production', EMBEDDED_SIMULATOR: 'true', PORT: '9464' }, 'METRICS_PORT="9464": expected a port other than PORT\'s (9464)'],
  ])('refuses two listeners on one port %j, naming both variables', (env, message) => {
    expect(refused(env).message).toBe(`Invalid configuration: ${message}, or 0 for any free one.`);
  });

  it('lets the ports be 0 together, and the simulator\'s be PORT\'s when no simulator is started', () => {
    expect(loadConfig({ PORT: '0', METRICS_PORT: '0', SIMULATOR_PORT: '0' })).toMatchObject(at({ 'http.port': 0, 'http.metricsPort': 0 }));
    expect(loadConfig({ CSE_ENDPOINT: 'https://cse.example.com', PORT: '4010', SIMULATOR_PORT: '4010' }).http.port).toBe(4010);
  });

  it('reads REDIS_TLS_CA_FILE at start-up, and refuses an unreadable or non-PEM file, or one without a rediss:// URL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-ca-'));
    try {
      const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
      writeFileSync(join(dir, 'ca.pem'), pem);
      writeFileSync(join(dir, 'key.txt'), 'not a certificate');
      expect(loadConfig({ REDIS_URL: 'rediss://redis:6380', REDIS_TLS_CA_FILE: join(dir, 'ca.pem') })).toMatchObject(at({ 'redis.tlsCa': pem }));
      const refused = (env: Record<string, string>) => {
        try {
          loadConfig(env);
        } catch (error) {
          return (error as ConfigError).problems;
        }
        throw new Error('accepted');
      };
      mkdirSync(join(dir, 'a-directory'));
      // Sparse: its size is past the bound, its blocks are not.
      writeFileSync(join(dir, 'huge.pem'), pem);
      truncateSync(join(dir, 'huge.pem'), 1024 * 1024 + 1);
      for (const [env, expected] of [
        [{ REDIS_URL: 'rediss://redis:6380', REDIS_TLS_CA_FILE: join(dir, 'missing.pem') }, /readable PEM file.*ENOENT/],
        [{ REDIS_URL: 'rediss://redis:6380', REDIS_TLS_CA_FILE: join(dir, 'a-directory') }, /not a regular file/],
        [{ REDIS_URL: 'rediss://redis:6380', REDIS_TLS_CA_FILE: join(dir, 'huge.pem') }, /larger than 1 MiB/],
        [{ REDIS_URL: 'rediss://redis:6380', REDIS_TLS_CA_FILE: join(dir, 'key.txt') }, /BEGIN CERTIFICATE/],
        [{ REDIS_URL: 'redis://redis:6379', REDIS_TLS_CA_FILE: join(dir, 'ca.pem') }, /rediss:\/\//],
        [{ REDIS_TLS_CA_FILE: join(dir, 'ca.pem') }, /rediss:\/\//],
      ] as const) {
        const problems = refused(env);
        expect(problems.map((problem) => problem.variable)).toEqual(['REDIS_TLS_CA_FILE']);
        expect(problems[0]!.expected).toMatch(expected);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads REDIS_CLUSTER, and refuses a cluster seed URL with a database other than 0 or a query, password masked', () => {
    expect(loadConfig({ REDIS_URL: 'redis://node-1:7000', REDIS_CLUSTER: 'true' })).toMatchObject(at({ 'redis.url': 'redis://node-1:7000', 'redis.cluster': true }));
    for (const url of ['rediss://gw:s3cret@node-1:7000/0', 'redis://node-1:7000/']) {
      expect(loadConfig({ REDIS_URL: url, REDIS_CLUSTER: 'true' })).toMatchObject(at({ 'redis.url': url, 'redis.cluster': true }));
    }
    expect(loadConfig({ REDIS_URL: 'redis://node-1:7000/2', REDIS_CLUSTER: 'false' })).toMatchObject(at({ 'redis.cluster': false }));
    // Without REDIS_URL it means nothing, as the other Redis settings.
    expect(loadConfig({ REDIS_CLUSTER: 'true' })).toMatchObject(at({ 'redis.url': undefined, 'redis.cluster': true }));
    for (const url of ['rediss://gw:s3cret@node-1:7000/2', 'redis://gw:s3cret@node-1:7000/0?family=6']) {
      let error: unknown;
      try {
        loadConfig({ REDIS_URL: url, REDIS_CLUSTER: 'true' });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const { message, problems } = error as ConfigError;
      expect(problems.map((problem) => problem.variable)).toEqual(['REDIS_URL']);
      expect(message).toContain(`${new URL(url).protocol}//***@node-1:7000/`);
      expect(message).toContain('REDIS_CLUSTER=true');
      expect(message).not.toContain('s3cret');
    }
  });

  it.each([
    ['production, unset', { NODE_ENV: 'production', CSE_ENDPOINT: 'https://cse.example.com' }, 9464],
    ['production, set', { NODE_ENV: 'production', CSE_ENDPOINT: 'https://cse.example.com', METRICS_PORT: '9100' }, 9100],
    ['development, unset (beside /graphql)', { NODE_ENV: 'development' }, undefined],
    ['test, set', { NODE_ENV: 'test', METRICS_PORT: '0' }, 0],
  ])('METRICS_PORT: %s → %s', (_what, env, expected) => {
    expect(loadConfig(env).http.metricsPort).toBe(expected);
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });

  it.each([
    [{ PORT: '8080' }, { 'http.port': 8080 }],
    [{ CSE_ENDPOINT: 'https://cse.example.com/' }, { 'upstream.endpoint': 'https://cse.example.com' }],
    [{ CSE_ENDPOINT: 'http://127.0.0.1:9000/prefix' }, { 'upstream.endpoint': 'http://127.0.0.1:9000/prefix' }],
    [{ CSE_PROJECT_ID: '0605767ecb00d4b12f2bc00d3a5b1a83' }, { 'upstream.projectId': '0605767ecb00d4b12f2bc00d3a5b1a83' }],
    [{ CSE_PAGE_BASE: '0' }, { 'upstream.pageBase': 0 }],
    [{ CSE_TIME_FORMAT: 'iso-8601' }, { 'upstream.timeFormat': 'iso-8601' }],
    [{ CSE_MAX_PAGE_SIZE: '50' }, { 'upstream.paging.maxPageSize': 50 }],
    [{ NODE_ENV: 'production' }, { nodeEnv: 'production', 'observability.logLevel': 'info' }],
    [{ NODE_ENV: 'test' }, { nodeEnv: 'test', 'observability.logLevel': 'silent' }],
    [{ LOG_LEVEL: 'debug' }, { 'observability.logLevel': 'debug' }],
    [{ PORT: '  ' }, { 'http.port': 4000 }],
    [{ LOG_PRETTY: 'true' }, { 'observability.logPretty': true }],
    [{ LOG_PRETTY: 'false' }, { 'observability.logPretty': false }],
    [{ METRICS_MAX_OPERATIONS: '5' }, { 'observability.metricsMaxOperations': 5 }],
    [{ SHUTDOWN_DELAY_MS: '5000', SHUTDOWN_TIMEOUT_MS: '0' }, { 'http.shutdownDelayMs': 5000, 'http.shutdownTimeoutMs': 0 }],
    [{ NODE_ENV: 'production' }, { 'http.shutdownDelayMs': 5000 }],
    [{ NODE_ENV: 'development' }, { 'http.shutdownDelayMs': 0 }],
    [{ NODE_ENV: 'test' }, { 'http.shutdownDelayMs': 0 }],
    [{ NODE_ENV: 'production', SHUTDOWN_DELAY_MS: '0' }, { 'http.shutdownDelayMs': 0 }],
    [{ CSE_CONNECTIONS: '4', CSE_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '3000' }, { 'upstream.poolConnections': 4, 'upstream.resilience.attemptTimeoutMs': 1000, 'limits.operationTimeoutMs': 3000 }],
    [{ CSE_RETRIES: '0', CSE_RETRY_BASE_MS: '10' }, { 'upstream.resilience.retries': 0, 'upstream.resilience.retryBaseMs': 10 }],
    [{ CSE_MAX_INFLIGHT: '2', CSE_MAX_QUEUE: '0' }, { 'upstream.resilience.maxInFlight': 2, 'upstream.resilience.maxQueue': 0 }],
    [
      { CSE_MAX_INFLIGHT: '100', CSE_MAX_QUEUE: '40' },
      { 'upstream.resilience.perEngine.inFlight': 25, 'upstream.resilience.perEngine.queue': 10, 'upstream.resilience.perCaller.inFlight': 50, 'upstream.resilience.perCaller.queue': 20 },
    ],
    [
      { CSE_MAX_INFLIGHT: '2', CSE_MAX_QUEUE: '0' },
      { 'upstream.resilience.perEngine.inFlight': 1, 'upstream.resilience.perEngine.queue': 0, 'upstream.resilience.perCaller.inFlight': 1, 'upstream.resilience.perCaller.queue': 0 },
    ],
    [
      { CSE_MAX_INFLIGHT_PER_ENGINE: '3', CSE_MAX_QUEUE_PER_ENGINE: '0', CSE_MAX_INFLIGHT_PER_CALLER: '64', CSE_MAX_QUEUE_PER_CALLER: '256' },
      { 'upstream.resilience.perEngine.inFlight': 3, 'upstream.resilience.perEngine.queue': 0, 'upstream.resilience.perCaller.inFlight': 64, 'upstream.resilience.perCaller.queue': 256 },
    ],
    // Made-up tokens together: a caller's share, at most a quarter of the pool's connections (at least one);
    // one client address a quarter of theirs (at least one each).
    [{ CSE_CONNECTIONS: '2' }, { 'upstream.resilience.strangers': { inFlight: 1, queue: 128, perAddress: { inFlight: 1, queue: 32 } } }],
    [{ CSE_CONNECTIONS: '400' }, { 'upstream.resilience.strangers': { inFlight: 32, queue: 128, perAddress: { inFlight: 32, queue: 32 } } }],
    [{ CSE_MAX_INFLIGHT_PER_CALLER: '3', CSE_MAX_QUEUE_PER_CALLER: '5' }, { 'upstream.resilience.strangers': { inFlight: 3, queue: 5, perAddress: { inFlight: 3, queue: 1 } } }],
    [{ CSE_MAX_QUEUE_PER_CALLER: '0' }, { 'upstream.resilience.strangers': { inFlight: 8, queue: 0, perAddress: { inFlight: 8, queue: 1 } } }],
    [{ CSE_MAX_STRANGER_CALLS_PER_S: '1' }, { 'upstream.resilience.strangers.callsPerSecond': 1 }],
    [{ CSE_MAX_STRANGER_CALLS_PER_S: '100000' }, { 'upstream.resilience.strangers.callsPerSecond': 100000 }],
    [{ CSE_AUTH_REJECTION_TTL_MS: '0', CACHE_AUTH_RECHECK_MS: '0' }, { 'upstream.credentials.rejectionTtlMs': 0, 'upstream.credentials.recheckMs': 0 }],
    [
      { HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '2000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000', HTTP_MAX_CONNECTIONS: '100' },
      { 'http.connections': { headersTimeoutMs: 2000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 65000, maxConnections: 100, maxConnectionsPerAddress: 25 } },
    ],
    [
      { CSE_BREAKER_FAILURES: '3', CSE_UPSTREAM_BREAKER_FAILURES: '4', CSE_BREAKER_OPEN_MS: '250' },
      { 'upstream.resilience.engineBreakerFailures': 3, 'upstream.resilience.upstreamBreakerFailures': 4, 'upstream.resilience.breakerOpenMs': 250 },
    ],
    [
      { CACHE_LIST_TTL_MS: '0', CACHE_ENGINE_TTL_MS: '0', CACHE_JOB_TTL_MS: '0', CACHE_TERMINAL_JOB_TTL_MS: '0' },
      { 'cache.ttls.listMs': 0, 'cache.ttls.engineMs': 0, 'cache.ttls.jobMs': 0, 'cache.ttls.terminalJobMs': 0 },
    ],
    [{ CACHE_MAX_ENTRIES: '50', CACHE_MAX_BYTES: '4096' }, { 'cache.maxEntries': 50, 'cache.maxBytes': 4096 }],
    [{ OPERATION_CACHE_MAX_BYTES: '2048' }, { 'cache.wholeResponseMaxBytes': 2048 }],
    [{ NODE_ENV: 'production' }, { 'limits.enableIntrospection': false, 'http.explorer': 'off' }],
    [{ NODE_ENV: 'production', ENABLE_INTROSPECTION: 'true', EXPLORER: 'sandbox' }, { 'limits.enableIntrospection': true, 'http.explorer': 'sandbox' }],
    [{ ENABLE_INTROSPECTION: 'false', EXPLORER: 'off' }, { 'limits.enableIntrospection': false, 'http.explorer': 'off' }],
    [{ NODE_ENV: 'production' }, { 'http.explorer': 'off' }],
    [{ EXPLORER: 'graphiql' }, { 'http.explorer': 'graphiql' }],
    [{ EXPLORER: 'off' }, { 'http.explorer': 'off' }],
    [{ NODE_ENV: 'production', EXPLORER: 'graphiql' }, { 'http.explorer': 'graphiql' }],
    [{ MAX_DEPTH: '5', MAX_ALIASES: '0', MAX_ALIAS_LENGTH: '64', MAX_TOKENS: '500', MAX_UPSTREAM_CALLS: '200' }, { 'limits.maxDepth': 5, 'limits.maxAliases': 0, 'limits.maxAliasLength': 64, 'limits.maxTokens': 500, 'limits.maxUpstreamCalls': 200 }],
    [{ OPERATION_MAX_UPSTREAM_BYTES: '1048576', MAX_LIST_ITEMS: '50' }, { 'limits.budget.maxUpstreamBytes': 1048576, 'limits.budget.maxListItems': 50 }],
    [{ MAX_BODY_BYTES: '1024' }, { 'http.maxBodyBytes': 1024 }],
    [{ SUBSCRIPTION_MAX_ITEMS_PER_EVENT: '0' }, { 'subscriptions.maxItemsPerEvent': 0 }],
    [{ CORS_ORIGINS: 'https://a.example.com, http://localhost:3000' }, { 'http.corsOrigins': ['https://a.example.com', 'http://localhost:3000'] }],
    [{ CORS_ORIGINS: '*' }, { 'http.corsOrigins': '*' }],
    [{ ALLOW_BATCHING: 'true' }, { 'http.allowBatching': true }],
    [{ PERSISTED_QUERIES: 'off' }, { 'limits.persistedQueries': 'off' }],
    [{ PERSISTED_QUERIES: 'safelist', PERSISTED_QUERIES_MANIFEST: 'pq.json' }, { 'limits.persistedQueries': 'safelist', 'limits.persistedQueriesManifest': 'pq.json' }],
    [{ FEDERATION_ENGINE_LIST_MAX_PAGES: '3' }, { 'limits.entities.maxListPages': 3 }],
    [{ GRAPHQL_EXECUTOR: 'graphql-js' }, { 'limits.executor.mode': 'graphql-js' }],
    [{ GRAPHQL_COMPILE_AFTER_USES: '1' }, { 'limits.executor.mode': 'adaptive', 'limits.executor.compileAfterUses': 1 }],
  ])('reads %j', (env, expected) => {
    expect(loadConfig(env)).toMatchObject(at(expected));
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['CSE_ENDPOINT', 'not a url'],
    ['CSE_ENDPOINT', 'ftp://cse.example.com'],
    ['CSE_ENDPOINT', 'https://cse.example.com/?x=1'],
    ['CSE_PROJECT_ID', 'a/b'],
    ['CSE_PROJECT_ID', 'x'.repeat(65)],
    ['CSE_PAGE_BASE', '2'],
    ['CSE_MAX_PAGE_SIZE', '0'],
    ['CSE_MAX_PAGE_SIZE', '1.5'],
    ['CSE_REQUEST_CONCURRENCY', '0'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'loud'],
    ['LOG_PRETTY', 'yes'],
    ['GRAPHQL_EXECUTOR', 'jit'],
    ['GRAPHQL_EXECUTOR', 'compiled'],
    ['METRICS_MAX_OPERATIONS', '0'],
    ['SHUTDOWN_DELAY_MS', '-1'],
    ['SHUTDOWN_TIMEOUT_MS', '600001'],
    ['SHUTDOWN_TIMEOUT_MS', '10s'],
    ['CSE_CONNECTIONS', '0'],
    ['CSE_TIMEOUT_MS', '0'],
    ['CSE_TIMEOUT_MS', '5s'],
    ['REQUEST_TIMEOUT_MS', '-1'],
    ['CSE_RETRIES', '11'],
    ['CSE_RETRY_BASE_MS', '0'],
    ['CSE_MAX_INFLIGHT', '0'],
    ['CSE_MAX_QUEUE', '1e3'],
    ['CSE_BREAKER_FAILURES', '0'],
    ['CSE_UPSTREAM_BREAKER_FAILURES', 'ten'],
    ['CSE_BREAKER_OPEN_MS', '0'],
    ['CACHE_LIST_TTL_MS', '-5'],
    ['CACHE_ENGINE_TTL_MS', '1.5'],
    ['CACHE_JOB_TTL_MS', 'off'],
    ['CACHE_TERMINAL_JOB_TTL_MS', '86400001'],
    ['CACHE_MAX_ENTRIES', '0'],
    ['CACHE_MAX_BYTES', '1023'],
    ['OPERATION_CACHE_MAX_BYTES', '1023'],
    ['MAX_BODY_BYTES', '100'],
    ['MAX_DEPTH', '0'],
    ['MAX_ALIASES', '-1'],
    ['MAX_TOKENS', '10'],
    ['MAX_UPSTREAM_CALLS', '0'],
    ['OPERATION_MAX_UPSTREAM_BYTES', '1000'],
    ['MAX_LIST_ITEMS', '0'],
    ['ENABLE_INTROSPECTION', 'yes'],
    ['CORS_ORIGINS', 'https://a.example.com/path'],
    ['CORS_ORIGINS', 'a.example.com'],
    ['CORS_ORIGINS', 'https://a.example.com/'],
    ['ALLOW_BATCHING', 'on'],
    ['REDIS_CLUSTER', 'yes'],
    ['PERSISTED_QUERIES', 'all'],
    ['PERSISTED_QUERIES_MANIFEST', 'pq.json'],
    ['FEDERATION_ENGINE_LIST_MAX_PAGES', '0'],
    ['SUBSCRIPTION_POLL_MS', '49'],
    ['METRICS_PORT', '70000'],
    ['EMBEDDED_SIMULATOR', 'maybe'],
    ['SUBSCRIPTION_LIST_PAGES', '0'],
    ['SUBSCRIPTION_MAX_PER_CONNECTION', '0'],
    ['SUBSCRIPTION_MAX_CALLS_PER_POLL', '0'],
    ['SUBSCRIPTION_MAX_WATCHED_PER_SCOPE', '0'],
    ['SUBSCRIPTION_MAX_TOTAL', '-1'],
    ['SUBSCRIPTION_MAX_BUFFERED_BYTES', '1023'],
    ['SUBSCRIPTION_INIT_TIMEOUT_MS', '99'],
    ['SUBSCRIPTION_KEEPALIVE_MS', 'often'],
    ['SUBSCRIPTION_MAX_ITEMS_PER_EVENT', '-1'],
    ['CSE_MAX_RESPONSE_BYTES', '1024'],
    ['MAX_BATCH_OPERATIONS', '0'],
    ['GRAPHQL_COMPILE_AFTER_USES', '0'],
    ['COMPILED_PLANS_MAX_BYTES', '1'],
    ['DOCUMENT_CACHE_MAX_BYTES', '1'],
    ['CSE_MAX_INFLIGHT_PER_ENGINE', '65'],
    ['CSE_MAX_INFLIGHT_PER_ENGINE', '0'],
    ['CSE_MAX_QUEUE_PER_ENGINE', '257'],
    ['CSE_MAX_INFLIGHT_PER_CALLER', '65'],
    ['CSE_MAX_QUEUE_PER_CALLER', 'all'],
    ['CSE_MAX_STRANGER_CALLS_PER_S', '0'],
    ['CSE_MAX_STRANGER_CALLS_PER_S', '100001'],
    ['CSE_MAX_STRANGER_CALLS_PER_S', '2.5'],
    ['CSE_AUTH_REJECTION_TTL_MS', '-1'],
    ['CACHE_AUTH_RECHECK_MS', '86400001'],
    ['HTTP_HEADERS_TIMEOUT_MS', '99'],
    ['HTTP_REQUEST_TIMEOUT_MS', '0'],
    ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '5s'],
    ['HTTP_MAX_CONNECTIONS', '0'],
    ['EXPLORER', 'playground'],
  ])('refuses %s=%j, naming the variable and the value', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
    expect(() => loadConfig({ [name]: value })).toThrow(JSON.stringify(value));
  });

  it('names every bad variable at once, not only the first', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', CSE_RETRIES: '99', LOG_LEVEL: 'loud', CORS_ORIGINS: 'nope' });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['CSE_RETRIES', 'PORT', 'CORS_ORIGINS', 'LOG_LEVEL']);
    const message = (error as ConfigError).message;
    for (const part of ['PORT="eighty"', 'CSE_RETRIES="99"', 'LOG_LEVEL="loud"', 'CORS_ORIGINS="nope"']) expect(message).toContain(part);
  });

  it('computes derived defaults from the valid values, and still reports a bad base value', () => {
    expect(loadConfig({ CSE_MAX_PAGE_SIZE: '8' })).toMatchObject(at({ 'upstream.paging.maxPageSize': 8, 'upstream.paging.defaultPageSize': 8 }));
    expect(() => loadConfig({ CSE_MAX_INFLIGHT: 'many' })).toThrow(/CSE_MAX_INFLIGHT="many"/);
  });

  it('warns (without refusing) when an upstream attempt could outlive its operation', () => {
    expect(loadConfig({}).warnings).toEqual([]);
    expect(loadConfig({ REQUEST_TIMEOUT_MS: '3000' }).warnings).toEqual([expect.stringMatching(/CSE_TIMEOUT_MS \(5000\) is above REQUEST_TIMEOUT_MS \(3000\)/)]);
  });

  it('refuses a headers timeout longer than the request timeout it is part of', () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '4000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS="5000".*HTTP_REQUEST_TIMEOUT_MS/);
    expect(() => loadConfig({ SUBSCRIPTION_POLL_MS: '5000', SUBSCRIPTION_MAX_BACKOFF_MS: '4000' })).toThrow(/SUBSCRIPTION_MAX_BACKOFF_MS="4000".*SUBSCRIPTION_POLL_MS/);
  });

  it('keeps WebSockets below the HTTP connection cap, and their per-address cap within their own', () => {
    // Below the address's share of connections (a quarter of 100), half of it: past it an upgrade would meet that cap first.
    expect(loadConfig({ HTTP_MAX_CONNECTIONS: '100' })).toMatchObject(at({ 'subscriptions.maxSockets': 50, 'subscriptions.maxSocketsPerAddress': 12 }));
    expect(() => loadConfig({ HTTP_MAX_CONNECTIONS: '100', SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS: '25' })).toThrow(/SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS="25".*less than HTTP_MAX_CONNECTIONS_PER_ADDRESS \(25\)/);
    expect(loadConfig({ HTTP_MAX_CONNECTIONS: '100', SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS: '24' })).toMatchObject(at({ 'subscriptions.maxSocketsPerAddress': 24 }));
    expect(loadConfig({ HTTP_MAX_CONNECTIONS: '1' })).toMatchObject(at({ 'subscriptions.maxSockets': 0, 'subscriptions.maxSocketsPerAddress': 0 }));
    expect(() => loadConfig({ HTTP_MAX_CONNECTIONS: '100', SUBSCRIPTION_MAX_SOCKETS: '100' })).toThrow(/SUBSCRIPTION_MAX_SOCKETS="100".*HTTP_MAX_CONNECTIONS/);
    expect(loadConfig({ HTTP_MAX_CONNECTIONS: '100' })).toMatchObject(at({ 'http.connections.maxConnectionsPerAddress': 25 }));
    expect(() => loadConfig({ HTTP_MAX_CONNECTIONS: '100', HTTP_MAX_CONNECTIONS_PER_ADDRESS: '101' })).toThrow(/HTTP_MAX_CONNECTIONS_PER_ADDRESS="101".*at most HTTP_MAX_CONNECTIONS \(100\)/);
    expect(() => loadConfig({ SUBSCRIPTION_MAX_SOCKETS: '10', SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS: '11' })).toThrow(/SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS="11".*SUBSCRIPTION_MAX_SOCKETS/);
    expect(() => loadConfig({ SUBSCRIPTION_IDLE_TIMEOUT_MS: '99' })).toThrow(/SUBSCRIPTION_IDLE_TIMEOUT_MS="99"/);
  });

  it.each([
    [{ CSE_TIMEOUT: '3000' }, 'unknown settings ignored: CSE_TIMEOUT (did you mean CSE_TIMEOUT_MS?)'],
    [{ REDIS_TIMEOUT_SM: '5', CACHE_LIST_TTL: '0' }, 'unknown settings ignored: CACHE_LIST_TTL (did you mean CACHE_LIST_TTL_MS?), REDIS_TIMEOUT_SM (did you mean REDIS_TIMEOUT_MS?)'],
    [{ SUBSCRIPTION_FLAVOUR: 'x' }, 'unknown settings ignored: SUBSCRIPTION_FLAVOUR'],
    [{ SIMULATOR_SCENARO: 'x' }, 'unknown settings ignored: SIMULATOR_SCENARO (did you mean SIMULATOR_SCENARIO?)'],
  ])('warns once about variables with our prefixes that are no setting: %j', (env, warning) => {
    expect(loadConfig(env).warnings).toEqual([warning]);
  });

  it('says nothing of variables that are not ours, nor of the service links Kubernetes sets', () => {
    const env = { NODE_OPTIONS: '--max-old-space-size=512', PATH: '/usr/bin', REDIS_PORT: 'tcp://10.0.0.1:6379', REDIS_SERVICE_HOST: '10.0.0.1', CSE_JOBS_GATEWAY_PORT_4000_TCP: 'tcp://10.0.0.2:4000' };
    expect(loadConfig(env).warnings).toEqual([]);
  });

  it('reads the simulator its settings, and says they are ignored with CSE_ENDPOINT', () => {
    expect(loadConfig({ SIMULATOR_PORT: '0', SIMULATOR_LIVE: 'false', SIMULATOR_SCENARIO: 'slow' }).upstream.simulator).toMatchObject({ port: 0, live: false, scenario: 'slow' });
    const options = { tickMs: 100, ticksPerStep: 3, heartbeat: true };
    expect(loadConfig({ SIMULATOR_LIVE: 'true', SIMULATOR_LIVE_OPTIONS: ` ${JSON.stringify(options)} ` }).upstream.simulator).toMatchObject({ live: true, liveOptions: options });
    expect(loadConfig({ SIMULATOR_LIVE: ' ', SIMULATOR_LIVE_OPTIONS: '' }).upstream.simulator).toMatchObject({ live: true, liveOptions: undefined });
    expect(loadConfig({ CSE_ENDPOINT: 'https://cse.example.com', SIMULATOR_PORT: '0' }).warnings).toEqual(['SIMULATOR_PORT ignored: CSE_ENDPOINT is set, so no simulator is started']);
    // Ignored, so not refused either.
    expect(loadConfig({ CSE_ENDPOINT: 'https://cse.example.com', SIMULATOR_PORT: 'x' }).upstream.simulator.port).toBeUndefined();
  });

  it.each([
    [{ SIMULATOR_PORT: '70000' }, 'SIMULATOR_PORT="70000": expected an integer from 0 to 65535'],
    [{ SIMULATOR_PORT: 'http' }, 'SIMULATOR_PORT="http": expected an integer from 0 to 65535'],
    [{ SIMULATOR_LIVE: 'no' }, 'SIMULATOR_LIVE="no": expected one of true, false'],
    [{ SIMULATOR_LIVE_OPTIONS: '{tickMs:100}' }, 'SIMULATOR_LIVE_OPTIONS="{tickMs:100}": expected a JSON object of live options, as `npm run simulator -- --live-options` takes'],
    [{ SIMULATOR_LIVE_OPTIONS: '[1]' }, 'SIMULATOR_LIVE_OPTIONS="[1]": expected a JSON object of live options, as `npm run simulator -- --live-options` takes'],
    [{ SIMULATOR_LIVE: 'false', SIMULATOR_LIVE_OPTIONS: '{}' }, 'SIMULATOR_LIVE_OPTIONS="{}": expected no value while SIMULATOR_LIVE=false turns live mode off'],
  ])('refuses the simulator setting %j, in one line naming the variable and the value', (env, message) => {
    expect(() => loadConfig(env)).toThrow(`Invalid configuration: ${message}.`);
  });

  it('refuses PERSISTED_QUERIES=safelist without a manifest', () => {
    expect(() => loadConfig({ PERSISTED_QUERIES: 'safelist' })).toThrow(/PERSISTED_QUERIES_MANIFEST/);
  });
});
