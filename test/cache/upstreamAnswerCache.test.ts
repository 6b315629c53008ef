import fc from 'fast-check';
import type { CacheTtls } from '../../src/cache/freshness';
import { isRouteCacheable, ttlFor } from '../../src/upstream/stages/cacheStage';
import { deepFreeze } from '../../src/cache/deepFreeze';
import { CallerShareCache } from '../../src/cache/CallerShareCache';
import { scopeKey } from '../../src/cache/scopeKey';
import { SingleFlight } from '../../src/cache/SingleFlight';
import type { AbortSignalLike } from '../../src/cache/abort';

const TTLS: CacheTtls = { listMs: 2000, engineMs: 10_000, jobMs: 2000, terminalJobMs: 600_000 };

describe('ttlFor', () => {
  it.each([
    ['listEngines', { total: 0, data: [] }, 2000],
    ['listJobs', { total: 1, data: [{ id: 1, status: 'Finished' }] }, 2000],
    ['getEngine', { id: 'e' }, 10_000],
    ['getJob', { id: 1, status: 'Finished' }, 600_000],
    ['getJob', { id: 1, status: 'Error' }, 600_000],
    ['getJob', { id: 1, status: 'Timeout' }, 600_000],
    ['getJob', { id: 1, status: 'FINISHED' }, 600_000],
    ['getJob', { id: 1, status: 'Executing' }, 2000],
    ['getJob', { id: 1, status: 'PreInit' }, 2000],
    ['getJob', { id: 1, status: 'Suspended' }, 2000],
    ['getJob', { id: 1 }, 2000],
    ['getJob', null, 2000],
  ] as const)('%s %j → %i ms', (route, body, ttl) => {
    expect(ttlFor(route, body, TTLS)).toBe(ttl);
  });

  it.each([
    [{ ...TTLS, listMs: 0 }, 'listJobs', false],
    [{ ...TTLS, engineMs: 0 }, 'getEngine', false],
    [{ ...TTLS, jobMs: 0 }, 'getJob', true],
    [{ ...TTLS, jobMs: 0, terminalJobMs: 0 }, 'getJob', false],
    [TTLS, 'listEngines', true],
  ] as const)('isRouteCacheable(%j, %s) = %p', (ttls, route, expected) => {
    expect(isRouteCacheable(route, ttls)).toBe(expected);
  });
});

describe('scopeKey', () => {
  const creds = { token: 'token-aaaaaaaaaaaa', projectId: 'p1', enterpriseProjectId: undefined };
  it('differs in every component of the scope, and never contains the token', () => {
    const url = 'http://upstream/v2/p1/enginemgr/engines';
    const keys = [
      scopeKey(creds, url),
      scopeKey({ ...creds, token: 'token-bbbbbbbbbbbb' }, url),
      scopeKey({ ...creds, projectId: 'p2' }, url),
      scopeKey({ ...creds, enterpriseProjectId: '0' }, url),
      scopeKey(creds, `${url}?offset=1`),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of keys) {
      expect(key).toMatch(/^[0-9a-f]{64} http:\/\/upstream\//);
      expect(key).not.toContain('token-');
    }
  });

  it('has no collisions by shifting characters between fields', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (a, b, c, d) => {
        fc.pre(a !== c || b !== d);
        expect(scopeKey({ token: a, projectId: b, enterpriseProjectId: undefined }, 'u')).not.toBe(
          scopeKey({ token: c, projectId: d, enterpriseProjectId: undefined }, 'u'),
        );
      }),
    );
  });
});

describe('CallerShareCache', () => {
  it('stays within its byte and entry bounds under 10,000 distinct keys of any size', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(20_000), { minLength: 10_000, maxLength: 10_000 }), fc.integer({ min: 1024, max: 512 * 1024 }), (sizes, maxBytes) => {
        const cache = new CallerShareCache<{ n: number }>({ maxEntries: 5000, maxBytes });
        sizes.forEach((bytes, n) => {
          cache.set(`key-${n}`, { n }, { ttlMs: 60_000, bytes: bytes, caller: 'c' });
          const { bytes: used, entries } = cache.stats;
          if (used > maxBytes || entries > 5000) throw new Error(`bound passed: ${used} bytes, ${entries} entries`);
        });
      }),
      { numRuns: 5 },
    );
  });

  it("keeps a caller's entries within its share whatever another caller sets (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(3000), { minLength: 1, maxLength: 8 }),
        // Many small entries fill the entry bound; large ones the byte bound.
        fc.array(fc.oneof(fc.nat(100), fc.nat(6000)), { maxLength: 400, size: 'max' }),
        fc.integer({ min: 20, max: 200 }),
        (mine, flood, maxEntries) => {
          const maxBytes = 100_000;
          const cache = new CallerShareCache<{ n: number }>({ maxEntries, maxBytes, maxEntryBytes: maxBytes / 4 });
          // Within a quarter of the bytes and of the entries, overhead included.
          const kept = mine.filter((bytes, n) => n + 1 <= maxEntries / 4 && bytes < 2000);
          kept.forEach((bytes, n) => cache.set(`mine-${n}`, { n }, { ttlMs: 60_000, bytes, caller: 'victim' }));
          flood.forEach((bytes, n) => cache.set(`flood-${n}`, { n }, { ttlMs: 60_000, bytes, caller: 'flooder' }));
          kept.forEach((_, n) => expect(cache.get(`mine-${n}`)).toEqual({ n }));
          expect(cache.stats.bytes).toBeLessThanOrEqual(maxBytes);
          expect(cache.stats.entries).toBeLessThanOrEqual(maxEntries);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('evicts the least recently used first, expires by TTL, and skips TTL 0', async () => {
    const cache = new CallerShareCache<{ v: string }>({ maxEntries: 2, maxBytes: 1_000_000 });
    cache.set('a', { v: 'a' }, { ttlMs: 60_000, bytes: 10, caller: 'c' });
    cache.set('b', { v: 'b' }, { ttlMs: 60_000, bytes: 10, caller: 'c' });
    cache.get('a');
    cache.set('c', { v: 'c' }, { ttlMs: 60_000, bytes: 10, caller: 'c' });
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([{ v: 'a' }, undefined, { v: 'c' }]);
    cache.set('d', { v: 'd' }, { ttlMs: 0, bytes: 10, caller: 'c' });
    expect(cache.get('d')).toBeUndefined();
    cache.set('e', { v: 'e' }, { ttlMs: 20, bytes: 10, caller: 'c' });
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(cache.get('e')).toBeUndefined();
  });
});

describe('SingleFlight', () => {
  it('makes identical concurrent calls once and hands everyone the same answer', async () => {
    const flights = new SingleFlight<object>();
    let calls = 0;
    let joined = 0;
    const start = async () => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return { answer: calls };
    };
    const results = await Promise.all(Array.from({ length: 5 }, () => flights.run('k', undefined, start, () => (joined += 1))));
    expect(calls).toBe(1);
    expect(joined).toBe(4);
    expect(new Set(results).size).toBe(1);
    // Nothing stays behind: the next call is made anew, joining nobody.
    await flights.run('k', undefined, start, () => (joined += 1));
    expect(calls).toBe(2);
    expect(joined).toBe(4);
  });

  it('tells the call whether anyone joined it; once its answer exists nobody can join any more', async () => {
    const flights = new SingleFlight<boolean>();
    const seen: boolean[] = [];
    const start = async (_signal: AbortSignalLike, flight: { readonly shared: boolean }) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(flight.shared);
      return flight.shared;
    };
    await flights.run('alone', undefined, start, () => {});
    const both = await Promise.all([flights.run('pair', undefined, start, () => {}), flights.run('pair', undefined, start, () => {})]);
    expect(seen).toEqual([false, true]);
    expect(both).toEqual([true, true]);

    // A caller whose call starts in the very reaction to an answer never gets that answer: the
    // flight was gone from the table when the answer was made.
    let calls = 0;
    const counted = async () => {
      calls += 1;
      return calls > 0;
    };
    const first = flights.run('k', undefined, counted, () => {});
    const late = first.then(() => flights.run('k', undefined, counted, () => {}));
    await Promise.all([first, late]);
    expect(calls).toBe(2);
  });

  it('leaves no unhandled rejection behind a call whose only caller was gone before it started', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const flights = new SingleFlight<string>();
      const gone = new AbortController();
      gone.abort(new Error('caller gone'));
      const start = (signal: AbortSignalLike) =>
        new Promise<string>((_resolve, reject) => {
          if (signal.aborted) reject(signal.reason);
          signal.addEventListener('abort', () => reject(signal.reason));
        });
      await expect(flights.run('k', gone.signal, start, () => {})).rejects.toThrow('caller gone');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
      // Nothing stays behind: the next call is made anew, joining nobody.
      let joined = false;
      await expect(flights.run('k', undefined, async () => 'again', () => (joined = true))).resolves.toBe('again');
      expect(joined).toBe(false);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('lets one participant leave without failing the others; aborts the call when the last one leaves', async () => {
    const flights = new SingleFlight<string>();
    let aborted = false;
    const start = (signal: AbortSignalLike) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => resolve('done'), 30);
        signal.addEventListener('abort', () => {
          aborted = true;
          clearTimeout(timer);
          reject(signal.reason);
        });
      });
    const first = new AbortController();
    const second = new AbortController();
    const a = flights.run('k', first.signal, start, () => {});
    const b = flights.run('k', second.signal, start, () => {});
    first.abort(new Error('first gone'));
    await expect(a).rejects.toThrow('first gone');
    await expect(b).resolves.toBe('done');
    expect(aborted).toBe(false);

    const third = new AbortController();
    const c = flights.run('k2', third.signal, start, () => {});
    third.abort(new Error('third gone'));
    await expect(c).rejects.toThrow('third gone');
    expect(aborted).toBe(true);
  });
});

describe('deepFreeze', () => {
  it('freezes nested objects and arrays, so a shared answer cannot be changed by one reader', () => {
    const body = deepFreeze({ total: 1, data: [{ id: 1, tasks: [{ id: 2 }] }] });
    expect(Object.isFrozen(body.data[0]!.tasks[0])).toBe(true);
    expect(() => {
      (body.data[0] as { id: number }).id = 3;
    }).toThrow(TypeError);
  });
});

describe('CallerShareCache with answers expired', () => {
  it('drops the expired answers of callers gone before holding a caller still here to its share', () => {
    let now = 1;
    const cache = new CallerShareCache<{ n: number }>({ maxEntries: 100, maxBytes: 1_000_000, clock: { now: () => now } });
    // Three callers fill 75 entries and leave; their answers expire.
    for (let n = 0; n < 75; n += 1) cache.set(`gone-${n}`, { n }, { ttlMs: 1000, bytes: 10, caller: `gone-${n % 3}` });
    now += 2000;
    for (let n = 0; n < 100; n += 1) cache.set(`here-${n}`, { n }, { ttlMs: 60_000, bytes: 10, caller: 'here' });
    const kept = Array.from({ length: 100 }, (_, n) => cache.get(`here-${n}`)).filter(Boolean).length;
    expect(kept).toBeGreaterThanOrEqual(90);
  });
});
