import type { RedisClient } from './RedisLink';

export type Script = (client: RedisClient, keys: readonly string[], args: ReadonlyArray<string | number>) => Promise<unknown>;

/**
 * A Lua script, defined once on the client: ioredis sends it by its SHA (EVALSHA) and again in
 * full when Redis does not know it (after a restart, say). Scripts only touch the keys they are
 * given, all of one hash tag (see redisKeys), so on a Redis Cluster each runs on the node of that
 * slot (test/redis/cluster.test.ts runs them on one that refuses keys of different slots).
 */
export function defineScript(client: RedisClient, name: string, numberOfKeys: number, lua: string): Script {
  client.defineCommand(name, { numberOfKeys, lua });
  return (target, keys, args) => {
    const command = (target as unknown as Record<string, ((...values: Array<string | number>) => Promise<unknown>) | undefined>)[name];
    if (command === undefined) return Promise.reject(new Error(`script ${name} is not defined on this client`));
    return command.call(target, ...keys, ...args);
  };
}

/**
 * KEYS: a lease; ARGV: its holder's token, the TTL. Renews the lease only while it is still that
 * holder's (1), else leaves it (0): a lease that lapsed and was taken is the taker's. One script
 * for every lease the gateway holds (an upstream call's, a subscription poller's).
 */
export const RENEW_LEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
`;
