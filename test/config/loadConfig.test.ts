import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configWarnings, loadConfig } from '../../src/config/loadConfig';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
      metricsPort: undefined,
      host: undefined,
      cseEndpoint: undefined,
      cseProjectId: undefined,
      csePageBase: 1,
      cseMaxPageSize: 100,
      defaultPageSize: 20,
      cseRequestConcurrency: 8,
      cseConnections: 32,
      cseTimeoutMs: 5000,
      cseMaxResponseBytes: 4194304,
      requestTimeoutMs: 15000,
      cseRetries: 2,
      cseRetryBaseMs: 100,
      cseMaxInflight: 64,
      cseMaxQueue: 256,
      cseMaxInflightPerEngine: 16,
      cseMaxQueuePerEngine: 64,
      cseMaxInflightPerCaller: 32,
      cseMaxQueuePerCaller: 128,
      cseAuthRejectionTtlMs: 10000,
      cseBreakerFailures: 5,
      cseUpstreamBreakerFailures: 10,
      cseBreakerOpenMs: 10000,
      cacheAuthRecheckMs: 60000,
      cacheListTtlMs: 2000,
      cacheEngineTtlMs: 10000,
      cacheJobTtlMs: 2000,
      cacheTerminalJobTtlMs: 600000,
      cacheMaxEntries: 10000,
      cacheMaxBytes: 67108864,
      operationCacheMaxBytes: 16777216,
      nodeEnv: 'development',
      logLevel: 'info',
      logPretty: false,
      metricsMaxOperations: 100,
      shutdownDelayMs: 0,
      shutdownTimeoutMs: 10000,
      subscriptionPollMs: 2000,
      subscriptionMaxBackoffMs: 60000,
      subscriptionListPages: 2,
      subscriptionMaxPerConnection: 25,
      subscriptionMaxCallsPerPoll: 10,
      subscriptionMaxWatchedPerScope: 500,
      subscriptionMaxTotal: 10000,
      subscriptionMaxBufferedBytes: 1048576,
      subscriptionInitTimeoutMs: 3000,
      subscriptionKeepAliveMs: 12000,
      subscriptionMaxItemsPerEvent: 20,
      subscriptionIdleTimeoutMs: 60000,
      subscriptionMaxSockets: 1024,
      subscriptionMaxSocketsPerAddress: 256,
      maxBodyBytes: 262144,
      httpHeadersTimeoutMs: 10000,
      httpRequestTimeoutMs: 30000,
      httpKeepAliveTimeoutMs: 5000,
      httpMaxConnections: 2048,
      maxDepth: 12,
      maxAliases: 30,
      maxTokens: 2000,
      maxUpstreamCalls: 50,
      operationMaxUpstreamBytes: 16777216,
      maxListItems: 1000,
      embeddedSimulator: true,
      enableIntrospection: true,
      enableSandbox: true,
      explorer: 'sandbox',
      corsOrigins: [],
      allowBatching: false,
      maxBatchOperations: 10,
      persistedQueries: 'apq',
      persistedQueriesManifest: undefined,
      apqCacheMaxBytes: 8388608,
      documentCacheMaxBytes: 33554432,
      federationEngineListThreshold: 3,
      federationEngineListMaxPages: 10,
      graphqlExecutor: 'adaptive',
      graphqlCompileAfterUses: 3,
      compiledPlansMaxBytes: 33554432,
      redisUrl: undefined,
      redisCluster: false,
      redisKeyPrefix: 'cse-gw:',
      redisTimeoutMs: 100,
      redisLeaseMs: 1000,
      redisMaxValueBytes: 524288,
      redisEncryptionKeys: undefined,
      redisTlsCa: undefined,
    });
  });

  it('reads REDIS_ENCRYPTION_KEY (one key or several, base64 or base64url) and never shows it', () => {
    const first = Buffer.alloc(32, 7);
    const second = Buffer.alloc(32, 200);
    const config = loadConfig({ REDIS_ENCRYPTION_KEY: `${first.toString('base64')},${second.toString('base64url')}` });
    expect(config.redisEncryptionKeys?.reveal()).toEqual([first, second]);
    expect(JSON.stringify(config)).not.toContain(first.toString('base64'));
    expect(JSON.stringify(config)).toContain('"redisEncryptionKeys":"[redacted]"');
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
    expect(config).toMatchObject({ redisUrl: 'rediss://gw:s3cret@redis.internal:6380/2', redisKeyPrefix: 'prod-gw:', redisTimeoutMs: 50 });
    let error: unknown;
    try {
      loadConfig({ REDIS_URL: 'http://gw:s3cret@redis.internal:6379', REDIS_KEY_PREFIX: 'a{b}' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect((error as ConfigError).problems.map((problem) => problem.variable)).toEqual(['REDIS_URL', 'REDIS_KEY_PREFIX']);
    expect(message).toContain('http://gw:***@redis.internal:6379');
    expect(message).not.toContain('s3cret');
  });

  it('reads REDIS_TLS_CA_FILE at start-up, and refuses an unreadable or non-PEM file, or one without a rediss:// URL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-ca-'));
    try {
      const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
      writeFileSync(join(dir, 'ca.pem'), pem);
      writeFileSync(join(dir, 'key.txt'), 'not a certificate');
      expect(loadConfig({ REDIS_URL: 'rediss://redis:6380', REDIS_TLS_CA_FILE: join(dir, 'ca.pem') })).toMatchObject({ redisTlsCa: pem });
      const refused = (env: Record<string, string>) => {
        try {
          loadConfig(env);
        } catch (error) {
          return (error as ConfigError).problems;
        }
        throw new Error('accepted');
      };
      for (const [env, expected] of [
        [{ REDIS_URL: 'rediss://redis:6380', REDIS_TLS_CA_FILE: join(dir, 'missing.pem') }, /readable PEM file.*ENOENT/],
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
    expect(loadConfig({ REDIS_URL: 'redis://node-1:7000', REDIS_CLUSTER: 'true' })).toMatchObject({ redisUrl: 'redis://node-1:7000', redisCluster: true });
    for (const url of ['rediss://gw:s3cret@node-1:7000/0', 'redis://node-1:7000/']) {
      expect(loadConfig({ REDIS_URL: url, REDIS_CLUSTER: 'true' })).toMatchObject({ redisUrl: url, redisCluster: true });
    }
    expect(loadConfig({ REDIS_URL: 'redis://node-1:7000/2', REDIS_CLUSTER: 'false' })).toMatchObject({ redisCluster: false });
    // Without REDIS_URL it means nothing, as the other Redis settings.
    expect(loadConfig({ REDIS_CLUSTER: 'true' })).toMatchObject({ redisUrl: undefined, redisCluster: true });
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
      expect(message).toContain('gw:***@node-1:7000/');
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
    expect(loadConfig(env).metricsPort).toBe(expected);
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });

  it.each([
    [{ PORT: '8080' }, { port: 8080 }],
    [{ CSE_ENDPOINT: 'https://cse.example.com/' }, { cseEndpoint: 'https://cse.example.com' }],
    [{ CSE_ENDPOINT: 'http://127.0.0.1:9000/prefix' }, { cseEndpoint: 'http://127.0.0.1:9000/prefix' }],
    [{ CSE_PROJECT_ID: '0605767ecb00d4b12f2bc00d3a5b1a83' }, { cseProjectId: '0605767ecb00d4b12f2bc00d3a5b1a83' }],
    [{ CSE_PAGE_BASE: '0' }, { csePageBase: 0 }],
    [{ CSE_MAX_PAGE_SIZE: '50' }, { cseMaxPageSize: 50 }],
    [{ NODE_ENV: 'production' }, { nodeEnv: 'production', logLevel: 'info' }],
    [{ NODE_ENV: 'test' }, { nodeEnv: 'test', logLevel: 'silent' }],
    [{ LOG_LEVEL: 'debug' }, { logLevel: 'debug' }],
    [{ PORT: '  ' }, { port: 4000 }],
    [{ LOG_PRETTY: 'true' }, { logPretty: true }],
    [{ LOG_PRETTY: 'false' }, { logPretty: false }],
    [{ METRICS_MAX_OPERATIONS: '5' }, { metricsMaxOperations: 5 }],
    [{ SHUTDOWN_DELAY_MS: '5000', SHUTDOWN_TIMEOUT_MS: '0' }, { shutdownDelayMs: 5000, shutdownTimeoutMs: 0 }],
    [{ NODE_ENV: 'production' }, { shutdownDelayMs: 5000 }],
    [{ NODE_ENV: 'development' }, { shutdownDelayMs: 0 }],
    [{ NODE_ENV: 'test' }, { shutdownDelayMs: 0 }],
    [{ NODE_ENV: 'production', SHUTDOWN_DELAY_MS: '0' }, { shutdownDelayMs: 0 }],
    [{ CSE_CONNECTIONS: '4', CSE_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '3000' }, { cseConnections: 4, cseTimeoutMs: 1000, requestTimeoutMs: 3000 }],
    [{ CSE_RETRIES: '0', CSE_RETRY_BASE_MS: '10' }, { cseRetries: 0, cseRetryBaseMs: 10 }],
    [{ CSE_MAX_INFLIGHT: '2', CSE_MAX_QUEUE: '0' }, { cseMaxInflight: 2, cseMaxQueue: 0 }],
    [
      { CSE_MAX_INFLIGHT: '100', CSE_MAX_QUEUE: '40' },
      { cseMaxInflightPerEngine: 25, cseMaxQueuePerEngine: 10, cseMaxInflightPerCaller: 50, cseMaxQueuePerCaller: 20 },
    ],
    [
      { CSE_MAX_INFLIGHT: '2', CSE_MAX_QUEUE: '0' },
      { cseMaxInflightPerEngine: 1, cseMaxQueuePerEngine: 0, cseMaxInflightPerCaller: 1, cseMaxQueuePerCaller: 0 },
    ],
    [
      { CSE_MAX_INFLIGHT_PER_ENGINE: '3', CSE_MAX_QUEUE_PER_ENGINE: '0', CSE_MAX_INFLIGHT_PER_CALLER: '64', CSE_MAX_QUEUE_PER_CALLER: '256' },
      { cseMaxInflightPerEngine: 3, cseMaxQueuePerEngine: 0, cseMaxInflightPerCaller: 64, cseMaxQueuePerCaller: 256 },
    ],
    [{ CSE_AUTH_REJECTION_TTL_MS: '0', CACHE_AUTH_RECHECK_MS: '0' }, { cseAuthRejectionTtlMs: 0, cacheAuthRecheckMs: 0 }],
    [
      { HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '2000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000', HTTP_MAX_CONNECTIONS: '100' },
      { httpHeadersTimeoutMs: 2000, httpRequestTimeoutMs: 2000, httpKeepAliveTimeoutMs: 65000, httpMaxConnections: 100 },
    ],
    [
      { CSE_BREAKER_FAILURES: '3', CSE_UPSTREAM_BREAKER_FAILURES: '4', CSE_BREAKER_OPEN_MS: '250' },
      { cseBreakerFailures: 3, cseUpstreamBreakerFailures: 4, cseBreakerOpenMs: 250 },
    ],
    [
      { CACHE_LIST_TTL_MS: '0', CACHE_ENGINE_TTL_MS: '0', CACHE_JOB_TTL_MS: '0', CACHE_TERMINAL_JOB_TTL_MS: '0' },
      { cacheListTtlMs: 0, cacheEngineTtlMs: 0, cacheJobTtlMs: 0, cacheTerminalJobTtlMs: 0 },
    ],
    [{ CACHE_MAX_ENTRIES: '50', CACHE_MAX_BYTES: '4096' }, { cacheMaxEntries: 50, cacheMaxBytes: 4096 }],
    [{ OPERATION_CACHE_MAX_BYTES: '2048' }, { operationCacheMaxBytes: 2048 }],
    [{ NODE_ENV: 'production' }, { enableIntrospection: false, enableSandbox: false }],
    [{ NODE_ENV: 'production', ENABLE_INTROSPECTION: 'true', ENABLE_SANDBOX: 'true' }, { enableIntrospection: true, enableSandbox: true }],
    [{ ENABLE_INTROSPECTION: 'false', ENABLE_SANDBOX: 'false' }, { enableIntrospection: false, enableSandbox: false, explorer: 'off' }],
    [{ NODE_ENV: 'production' }, { explorer: 'off' }],
    [{ EXPLORER: 'graphiql' }, { explorer: 'graphiql', enableSandbox: false }],
    [{ EXPLORER: 'off' }, { explorer: 'off', enableSandbox: false }],
    [{ NODE_ENV: 'production', EXPLORER: 'graphiql' }, { explorer: 'graphiql', enableSandbox: false }],
    [{ NODE_ENV: 'production', ENABLE_SANDBOX: 'true' }, { explorer: 'sandbox', enableSandbox: true }],
    [{ ENABLE_SANDBOX: 'false', EXPLORER: 'graphiql' }, { explorer: 'graphiql', enableSandbox: false }],
    [{ ENABLE_SANDBOX: 'true', EXPLORER: 'sandbox' }, { explorer: 'sandbox', enableSandbox: true }],
    [{ MAX_DEPTH: '5', MAX_ALIASES: '0', MAX_TOKENS: '500', MAX_UPSTREAM_CALLS: '200' }, { maxDepth: 5, maxAliases: 0, maxTokens: 500, maxUpstreamCalls: 200 }],
    [{ OPERATION_MAX_UPSTREAM_BYTES: '1048576', MAX_LIST_ITEMS: '50' }, { operationMaxUpstreamBytes: 1048576, maxListItems: 50 }],
    [{ MAX_BODY_BYTES: '1024' }, { maxBodyBytes: 1024 }],
    [{ SUBSCRIPTION_MAX_ITEMS_PER_EVENT: '0' }, { subscriptionMaxItemsPerEvent: 0 }],
    [{ CORS_ORIGINS: 'https://a.example.com, http://localhost:3000' }, { corsOrigins: ['https://a.example.com', 'http://localhost:3000'] }],
    [{ CORS_ORIGINS: '*' }, { corsOrigins: '*' }],
    [{ ALLOW_BATCHING: 'true' }, { allowBatching: true }],
    [{ PERSISTED_QUERIES: 'off' }, { persistedQueries: 'off' }],
    [{ PERSISTED_QUERIES: 'safelist', PERSISTED_QUERIES_MANIFEST: 'pq.json' }, { persistedQueries: 'safelist', persistedQueriesManifest: 'pq.json' }],
    [{ APQ_CACHE_MAX_BYTES: '4096', FEDERATION_ENGINE_LIST_THRESHOLD: '0' }, { apqCacheMaxBytes: 4096, federationEngineListThreshold: 0 }],
    [{ GRAPHQL_EXECUTOR: 'graphql-js' }, { graphqlExecutor: 'graphql-js' }],
    [{ GRAPHQL_EXECUTOR: 'compiled', GRAPHQL_COMPILE_AFTER_USES: '1' }, { graphqlExecutor: 'compiled', graphqlCompileAfterUses: 1 }],
  ])('reads %j', (env, expected) => {
    expect(loadConfig(env)).toMatchObject(expected);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['CSE_ENDPOINT', 'not a url'],
    ['CSE_ENDPOINT', 'ftp://cse.example.com'],
    ['CSE_ENDPOINT', 'https://user:secret@cse.example.com'],
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
    ['ENABLE_SANDBOX', '1'],
    ['CORS_ORIGINS', 'https://a.example.com/path'],
    ['CORS_ORIGINS', 'a.example.com'],
    ['CORS_ORIGINS', 'https://a.example.com/'],
    ['ALLOW_BATCHING', 'on'],
    ['REDIS_CLUSTER', 'yes'],
    ['PERSISTED_QUERIES', 'all'],
    ['PERSISTED_QUERIES_MANIFEST', 'pq.json'],
    ['APQ_CACHE_MAX_BYTES', '10'],
    ['FEDERATION_ENGINE_LIST_THRESHOLD', '-1'],
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
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['PORT', 'CSE_RETRIES', 'LOG_LEVEL', 'CORS_ORIGINS']);
    const message = (error as ConfigError).message;
    for (const part of ['PORT="eighty"', 'CSE_RETRIES="99"', 'LOG_LEVEL="loud"', 'CORS_ORIGINS="nope"']) expect(message).toContain(part);
  });

  it('computes derived defaults from the valid values, and still reports a bad base value', () => {
    expect(loadConfig({ CSE_MAX_PAGE_SIZE: '8' })).toMatchObject({ cseMaxPageSize: 8, defaultPageSize: 8 });
    expect(() => loadConfig({ CSE_MAX_INFLIGHT: 'many' })).toThrow(/CSE_MAX_INFLIGHT="many"/);
  });

  it('warns (without refusing) when an upstream attempt could outlive its operation', () => {
    expect(configWarnings(loadConfig({}))).toEqual([]);
    expect(configWarnings(loadConfig({ REQUEST_TIMEOUT_MS: '3000' }))).toEqual([expect.stringMatching(/CSE_TIMEOUT_MS \(5000\) is above REQUEST_TIMEOUT_MS \(3000\)/)]);
  });

  it('refuses a headers timeout longer than the request timeout it is part of', () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '4000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS="5000".*HTTP_REQUEST_TIMEOUT_MS/);
    expect(() => loadConfig({ SUBSCRIPTION_POLL_MS: '5000', SUBSCRIPTION_MAX_BACKOFF_MS: '4000' })).toThrow(/SUBSCRIPTION_MAX_BACKOFF_MS="4000".*SUBSCRIPTION_POLL_MS/);
  });

  it('keeps WebSockets below the HTTP connection cap, and their per-address cap within their own', () => {
    expect(loadConfig({ HTTP_MAX_CONNECTIONS: '100' })).toMatchObject({ subscriptionMaxSockets: 50, subscriptionMaxSocketsPerAddress: 50 });
    expect(loadConfig({ HTTP_MAX_CONNECTIONS: '1' })).toMatchObject({ subscriptionMaxSockets: 0, subscriptionMaxSocketsPerAddress: 0 });
    expect(() => loadConfig({ HTTP_MAX_CONNECTIONS: '100', SUBSCRIPTION_MAX_SOCKETS: '100' })).toThrow(/SUBSCRIPTION_MAX_SOCKETS="100".*HTTP_MAX_CONNECTIONS/);
    expect(() => loadConfig({ SUBSCRIPTION_MAX_SOCKETS: '10', SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS: '11' })).toThrow(/SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS="11".*SUBSCRIPTION_MAX_SOCKETS/);
    expect(() => loadConfig({ SUBSCRIPTION_IDLE_TIMEOUT_MS: '99' })).toThrow(/SUBSCRIPTION_IDLE_TIMEOUT_MS="99"/);
  });

  it.each([
    [{ ENABLE_SANDBOX: 'true', EXPLORER: 'graphiql' }, /ENABLE_SANDBOX="true": expected false or unset with EXPLORER=graphiql/],
    [{ ENABLE_SANDBOX: 'true', EXPLORER: 'off' }, /ENABLE_SANDBOX="true": expected false or unset with EXPLORER=off/],
    [{ ENABLE_SANDBOX: 'false', EXPLORER: 'sandbox' }, /ENABLE_SANDBOX="false": expected true or unset with EXPLORER=sandbox/],
  ])('refuses ENABLE_SANDBOX contradicting EXPLORER: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('refuses PERSISTED_QUERIES=safelist without a manifest', () => {
    expect(() => loadConfig({ PERSISTED_QUERIES: 'safelist' })).toThrow(/PERSISTED_QUERIES_MANIFEST/);
  });
});
