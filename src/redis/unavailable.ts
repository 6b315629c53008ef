/**
 * What a Redis command returns when Redis could not answer in time: go on locally. In a module
 * of its own so that code paths that only compare with it do not load the Redis client.
 */
export const UNAVAILABLE: unique symbol = Symbol('redis unavailable');
export type Unavailable = typeof UNAVAILABLE;
