import { onPath } from './redisProcess';

export {
  freePort,
  onNode,
  redisServerPath,
  startRedisCluster,
  startRedisServer,
  type RedisCluster,
  type RedisClusterNode,
  type RedisClusterOptions,
  type RedisServer,
  type RedisServerOptions,
} from './redisProcess';

/**
 * `describe` for suites that need a real redis-server: skipped with the reason in its name when
 * there is none, except under CI=true, where a missing redis-server fails the run (`.ci/run`
 * installs it; a CI that silently skipped the Redis tests would prove nothing).
 */
export function describeWithRedis(name: string, suite: () => void): void {
  describeNeeding(['redis-server'], name, suite);
}

/** {@link describeWithRedis} for the multi-node cluster: it needs redis-cli (to join the nodes) and openssl (for TLS) too. */
export function describeWithRedisCluster(name: string, suite: () => void): void {
  describeNeeding(['redis-server', 'redis-cli', 'openssl'], name, suite);
}

function describeNeeding(programs: readonly string[], name: string, suite: () => void): void {
  const missing = programs.filter((program) => onPath(program) === undefined);
  if (missing.length === 0) {
    describe(name, suite);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it(`needs ${programs.join(', ')}`, () => {
        throw new Error(`${missing.join(', ')} not installed, and CI=true requires the Redis tests to run (apt-get install redis-server redis-tools openssl)`);
      });
    });
  } else {
    process.stderr.write(`${name}: skipped, ${missing.join(', ')} not installed (under CI=true this fails the run)\n`);
    describe.skip(`${name} (skipped: ${missing.join(', ')} not installed)`, suite);
  }
}
