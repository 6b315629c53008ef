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
  readonly nodeEnv: NodeEnv;
  /** pino level; `silent` turns logging off. */
  readonly logLevel: LogLevel;
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
  const config: GatewayConfig = {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: optional(env, 'HOST'),
    cseEndpoint: endpoint(env, 'CSE_ENDPOINT'),
    cseProjectId: pattern(env, 'CSE_PROJECT_ID', PROJECT_ID_PATTERN, '1 to 64 letters, digits, "_" or "-"'),
    csePageBase: oneOf(env, 'CSE_PAGE_BASE', ['0', '1'] as const, '1') === '0' ? 0 : 1,
    cseMaxPageSize: integer(env, 'CSE_MAX_PAGE_SIZE', 100, 1, 1000),
    cseRequestConcurrency: integer(env, 'CSE_REQUEST_CONCURRENCY', 8, 1, 256),
    nodeEnv,
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'silent' : 'info'),
  };
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
