import { UNAVAILABLE } from '../cache/secondLevel';
import { REGISTERED_TTL_MS, type FleetRegistry } from '../security/persistedQueries';
import type { RedisLink } from './RedisLink';

/**
 * The APQ registry the replicas share, behind each one's own (QueryRegistry), which bounds what a replica
 * writes here and deletes what it pushes out. Sealed for its key: a value that does not open, or Redis
 * failing, is a miss, and the client sends its text again.
 */
export class RedisQueryRegistry implements FleetRegistry {
  constructor(private readonly link: RedisLink) {}

  async get(key: string): Promise<string | undefined> {
    const value = await this.link.run('apq-get', (client) => client.get(this.link.keys.persistedQuery(key)));
    return value === UNAVAILABLE || value === null ? undefined : this.link.cipher.open(value, contextOf(key));
  }

  put(key: string, text: string): void {
    const sealed = this.link.seal(text, contextOf(key));
    if (sealed === undefined) return;
    void this.link.run('apq-set', (client) => client.set(this.link.keys.persistedQuery(key), sealed, 'PX', REGISTERED_TTL_MS));
  }

  forget(key: string): void {
    void this.link.run('apq-delete', (client) => client.del(this.link.keys.persistedQuery(key)));
  }
}

/** What a value is sealed for: its key, as the replicas before sealed it. */
const contextOf = (key: string) => `apq:${key}`;
