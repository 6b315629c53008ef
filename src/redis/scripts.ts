import type { RedisClient } from './RedisLink';

export type Script = (client: RedisClient, keys: readonly string[], args: ReadonlyArray<string | number>) => Promise<unknown>;

/** A Lua script defined once on the client (EVALSHA); it touches only its keys, all of one hash tag. */
export function defineScript(client: RedisClient, name: string, numberOfKeys: number, lua: string): Script {
  client.defineCommand(name, { numberOfKeys, lua });
  return (target, keys, args) => {
    const command = (target as unknown as Record<string, ((...values: Array<string | number>) => Promise<unknown>) | undefined>)[name];
    if (command === undefined) return Promise.reject(new Error(`script ${name} is not defined on this client`));
    return command.call(target, ...keys, ...args);
  };
}

/** KEYS: a lease; ARGV: its holder's token, the TTL. Renews it only while it is that holder's (1, else 0). */
export const RENEW_LEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
`;
