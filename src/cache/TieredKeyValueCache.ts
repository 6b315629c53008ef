import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';

/**
 * Two levels: the replica's own cache in front (hits cost no round trip), the shared one behind
 * it (what another replica registered is found there, and then kept in front too).
 */
export class TieredKeyValueCache implements KeyValueCache<string> {
  constructor(
    private readonly local: KeyValueCache<string>,
    private readonly shared: KeyValueCache<string>,
  ) {}

  async get(key: string): Promise<string | undefined> {
    const near = await this.local.get(key);
    if (near !== undefined) return near;
    const far = await this.shared.get(key);
    if (far !== undefined) await this.local.set(key, far);
    return far;
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    await Promise.all([this.local.set(key, value, options), this.shared.set(key, value, options)]);
  }

  async delete(key: string): Promise<boolean> {
    const [near, far] = await Promise.all([this.local.delete(key), this.shared.delete(key)]);
    return near === true || far === true;
  }
}
