import { redisServerPath } from './redisProcess';

export { freePort, redisServerPath, startRedisServer, type RedisServer, type RedisServerOptions } from './redisProcess';

/**
 * `describe` for suites that need a real redis-server: skipped with the reason in its name when
 * there is none, except under CI=true, where a missing redis-server fails the run (`.ci/run`
 * installs it; a CI that silently skipped the Redis tests would prove nothing).
 */
export function describeWithRedis(name: string, suite: () => void): void {
  if (redisServerPath() !== undefined) {
    describe(name, suite);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs redis-server', () => {
        throw new Error('redis-server is not installed, and CI=true requires the Redis tests to run (apt-get install redis-server)');
      });
    });
  } else {
    process.stderr.write(`${name}: skipped, redis-server is not installed (under CI=true this fails the run)\n`);
    describe.skip(`${name} (skipped: redis-server is not installed)`, suite);
  }
}
