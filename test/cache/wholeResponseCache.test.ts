import fc from 'fast-check';
import type { IncomingMessage } from 'node:http';
import { createWholeResponseCache, privateMaxAge, type WholeResponseCacheOptions } from '../../src/cache/wholeResponseCache';
import { requestKey, readCredentials } from '../../src/cache/requestKey';
import type { Credentials } from '../../src/upstream/credentials';

describe('privateMaxAge', () => {
  it.each<[string | undefined, number]>([
    ['max-age=2, private', 2],
    ['private, max-age=600', 600],
    ['Max-Age=5, Private', 5],
    ['max-age=0, private', 0],
    ['max-age=2', 0], // shared caching is not ours to assume: Apollo always says private here
    ['max-age=2, public', 0],
    ['no-store', 0],
    ['max-age=2, private, no-store', 0],
    ['max-age=2, private, no-cache', 0],
    ['max-age=-1, private', 0],
    ['max-age=abc, private', 0],
    ['max-age=1e3, private', 0],
    ['', 0],
    [undefined, 0],
  ])('%j → %d s', (header, seconds) => {
    expect(privateMaxAge(header)).toBe(seconds);
  });
});

const TTLS = { listMs: 2000, engineMs: 10000, jobMs: 2000, terminalJobMs: 600000 };
const OK_HEADERS = new Map([
  ['content-type', 'application/json; charset=utf-8'],
  ['cache-control', 'max-age=2, private'],
  ['x-other', 'not stored'],
]);

interface FakeRequest {
  token?: string;
  project?: string;
  enterprise?: string;
  method?: string;
  accept?: string;
  contentType?: string;
}

function request({ token = 'token-aaaaaaaa', project = 'p1', enterprise, method = 'POST', accept, contentType = 'application/json' }: FakeRequest = {}): IncomingMessage {
  const headers = { 'x-auth-token': token, 'x-project-id': project, 'x-enterprise-project-id': enterprise, accept, 'content-type': contentType };
  return { method, headers } as unknown as IncomingMessage;
}

function setUp(overrides: Partial<WholeResponseCacheOptions<{ verdict: boolean }>> = {}) {
  let now = 1_000_000;
  const hits: Array<string | null> = [];
  let misses = 0;
  const credentialsOf = (r: IncomingMessage): Credentials => {
    const token = r.headers['x-auth-token'] as string;
    if (token === 'bad') throw new Error('UNAUTHENTICATED');
    return { token, projectId: r.headers['x-project-id'] as string, enterpriseProjectId: r.headers['x-enterprise-project-id'] as string | undefined };
  };
  const created = createWholeResponseCache<{ verdict: boolean }>({
    ttls: TTLS,
    maxBytes: 1 << 20,
    generationOf: () => 1,
    storable: (context) => (context.verdict ? { operationName: 'Page' } : undefined),
    onLookup: (hit) => (hit === undefined ? (misses += 1) : hits.push(hit.operationName)),
    clock: { now: () => now },
    ...overrides,
  });
  // Keys and credentials are the HTTP server's (requestKey, readCredentials), as it makes them for the cache.
  const keyOf = (r: IncomingMessage, search: string, body: string) => {
    const credentials = readCredentials(credentialsOf, r);
    return credentials && requestKey(credentials, r, search, body);
  };
  type Answer = { status: number; headers: ReadonlyMap<string, string>; body: string };
  const cache = created === undefined ? undefined! : {
    keyOf,
    lookup: (key: string, r: IncomingMessage) => created.lookup(key, credentialsOf(r)),
    offer: (key: string, r: IncomingMessage, context: { verdict: boolean } | undefined, answer: Answer) =>
      created.offer(key, credentialsOf(r), context, { ...answer, body: Buffer.from(answer.body) }),
  };
  return { cache, hits, misses: () => misses, advance: (ms: number) => (now += ms) };
}

describe('createWholeResponseCache', () => {
  it('is off when every TTL is 0', () => {
    expect(setUp({ ttls: { listMs: 0, engineMs: 0, jobMs: 0, terminalJobMs: 0 } }).cache).toBeUndefined();
  });

  it('serves a stored answer with its own headers and its age, until its max-age has passed', () => {
    const { cache, hits, misses, advance } = setUp();
    const key = cache.keyOf(request(), '', '{"query":"{a}"}')!;
    expect(cache.lookup(key, request())).toBeUndefined();
    cache.offer(key, request(), { verdict: true }, { status: 200, headers: OK_HEADERS, body: '{"data":{"a":1}}' });
    advance(1500);
    expect(cache.lookup(key, request())).toEqual({
      body: Buffer.from('{"data":{"a":1}}'),
      headers: [
        ['content-type', 'application/json; charset=utf-8'],
        ['cache-control', 'max-age=2, private'],
      ],
      ageSeconds: 1,
      operationName: 'Page',
    });
    advance(501);
    expect(cache.lookup(key, request())).toBeUndefined();
    expect(hits).toEqual(['Page']);
    expect(misses()).toBe(2);
  });

  it('stores a small answer in bytes of its own, not a slice of Node\'s shared pool that the bound would not count', () => {
    const { cache } = setUp();
    const key = cache.keyOf(request(), '', '{"query":"{a}"}')!;
    const small = Buffer.from('{"data":{"a":1}}');
    expect(small.buffer.byteLength).toBeGreaterThan(small.length); // pooled, as Buffer.from makes it
    cache.offer(key, request(), { verdict: true }, { status: 200, headers: OK_HEADERS, body: small.toString() });
    const stored = cache.lookup(key, request())!.body;
    expect(stored.buffer.byteLength).toBe(stored.length);
    expect(stored.toString()).toBe('{"data":{"a":1}}');
  });

  describe('a caller holds at most a quarter of each segment once others would be pushed out', () => {
    const answer = { status: 200, headers: OK_HEADERS, body: 'y'.repeat(600) };
    /** Stored and asked for again (promoted): answers being reused. */
    const reused = (cache: ReturnType<typeof setUp>['cache'], token: string, name: string) => {
      const key = cache.keyOf(request({ token }), '', name)!;
      cache.offer(key, request({ token }), { verdict: true }, answer);
      return cache.lookup(key, request({ token })) !== undefined;
    };
    const kept = (cache: ReturnType<typeof setUp>['cache'], token: string, name: string) =>
      cache.lookup(cache.keyOf(request({ token }), '', name)!, request({ token })) !== undefined;

    it('a flood of one caller\'s reused answers pushes out only its own, oldest first', () => {
      const { cache } = setUp({ maxBytes: 8192 });
      expect(reused(cache, 'token-aaaaaaaa', 'hot')).toBe(true);
      const flood = Array.from({ length: 20 }, (_, i) => `flood ${i}`);
      expect(flood.map((name) => reused(cache, 'token-bbbbbbbb', name))).toEqual(Array(20).fill(true));
      expect(kept(cache, 'token-aaaaaaaa', 'hot')).toBe(true);
      // Its oldest went; as many of its newest stay as fit beside the other caller's.
      const flooded = flood.map((name) => kept(cache, 'token-bbbbbbbb', name));
      expect(flooded[0]).toBe(false);
      expect(flooded.slice(-2)).toEqual([true, true]);
      expect(flooded.slice(flooded.indexOf(true)).every(Boolean)).toBe(true);
    });

    /** Stored once and never asked for again: answers waiting in probation. */
    const offered = (cache: ReturnType<typeof setUp>['cache'], r: IncomingMessage, name: string) =>
      cache.offer(cache.keyOf(r, '', name)!, r, { verdict: true }, answer);

    it('a flood of one caller\'s new answers leaves another\'s new answer in probation', () => {
      const { cache } = setUp({ maxBytes: 32_768 });
      offered(cache, request({ token: 'token-aaaaaaaa' }), 'new');
      for (let i = 0; i < 40; i += 1) offered(cache, request({ token: 'token-bbbbbbbb' }), `flood ${i}`);
      expect(kept(cache, 'token-aaaaaaaa', 'new')).toBe(true);
    });

    it('a caller is one however many enterprise projects it names', () => {
      const { cache } = setUp({ maxBytes: 32_768 });
      offered(cache, request({ token: 'token-aaaaaaaa' }), 'new');
      for (let i = 0; i < 40; i += 1) offered(cache, request({ token: 'token-bbbbbbbb', enterprise: `ep-${i}` }), `flood ${i}`);
      expect(kept(cache, 'token-aaaaaaaa', 'new')).toBe(true);
    });

    it('a caller alone may fill the cache', () => {
      const { cache } = setUp({ maxBytes: 32_768 });
      const names = Array.from({ length: 20 }, (_, i) => `answer ${i}`);
      expect(names.map((name) => reused(cache, 'token-bbbbbbbb', name))).toEqual(Array(20).fill(true));
      expect(names.map((name) => kept(cache, 'token-bbbbbbbb', name)).filter(Boolean).length).toBeGreaterThan(8);
    });

    it('gets its share back as its answers expire or are pushed out', () => {
      const { cache, advance } = setUp({ maxBytes: 8192 });
      const names = (from: number) => Array.from({ length: 5 }, (_, i) => `answer ${from + i}`);
      for (const round of [0, 100, 200]) {
        expect(names(round).map((name) => reused(cache, 'token-bbbbbbbb', name))).toEqual(Array(5).fill(true));
        expect(names(round).slice(-2).map((name) => kept(cache, 'token-bbbbbbbb', name))).toEqual([true, true]);
        advance(2001);
        expect(names(round).map((name) => kept(cache, 'token-bbbbbbbb', name))).toEqual(Array(5).fill(false));
      }
    });
  });

  describe('admission: a segmented LRU', () => {
    const answer = (body: string) => ({ status: 200, headers: OK_HEADERS, body });
    /** Room for about nine answers of 600 bytes (and their overhead): probation, a fifth, holds one. */
    const flood = (cache: ReturnType<typeof setUp>['cache'], count: number) => {
      for (let i = 0; i < count; i += 1) {
        const key = cache.keyOf(request(), '', `one-off ${i}`)!;
        expect(cache.lookup(key, request())).toBeUndefined();
        cache.offer(key, request(), { verdict: true }, answer('y'.repeat(600)));
      }
    };

    it('keeps an answer that was asked for again through a flood of requests that never repeat', () => {
      const { cache } = setUp({ maxBytes: 8192 });
      const hot = cache.keyOf(request(), '', 'hot')!;
      cache.offer(hot, request(), { verdict: true }, answer('x'.repeat(600)));
      expect(cache.lookup(hot, request())).toBeDefined(); // its first hit: promoted
      flood(cache, 10_000);
      expect(cache.lookup(hot, request())?.body.toString()).toBe('x'.repeat(600));
    });

    it('lets the flood push out an answer nobody asked for again (probation is bounded)', () => {
      const { cache } = setUp({ maxBytes: 8192 });
      const once = cache.keyOf(request(), '', 'once')!;
      cache.offer(once, request(), { verdict: true }, answer('x'.repeat(600)));
      flood(cache, 10);
      expect(cache.lookup(once, request())).toBeUndefined();
    });

    it('serves a promoted answer no longer than its own max-age', () => {
      const { cache, advance } = setUp();
      const key = cache.keyOf(request(), '', 'body')!;
      cache.offer(key, request(), { verdict: true }, answer('{"data":{}}'));
      advance(1500);
      expect(cache.lookup(key, request())?.ageSeconds).toBe(1);
      advance(499);
      expect(cache.lookup(key, request())).toBeDefined();
      advance(2);
      expect(cache.lookup(key, request())).toBeUndefined();
    });
  });

  it.each<[string, number, ReadonlyMap<string, string>, { verdict: boolean } | undefined]>([
    ['a status other than 200', 400, OK_HEADERS, { verdict: true }],
    ['no-store (Apollo: the response has errors)', 200, new Map([['cache-control', 'no-store']]), { verdict: true }],
    ['a max-age of 0', 200, new Map([['cache-control', 'max-age=0, private']]), { verdict: true }],
    ['no cache-control', 200, new Map(), { verdict: true }],
    ['an operation that forbids it (not found, upstream cache entries)', 200, OK_HEADERS, { verdict: false }],
    ['no context (it was never made)', 200, OK_HEADERS, undefined],
  ])('never stores an answer with %s', (_, status, headers, context) => {
    const { cache } = setUp();
    const key = cache.keyOf(request(), '', 'body')!;
    cache.offer(key, request(), context, { status, headers, body: '{"data":{}}' });
    expect(cache.lookup(key, request())).toBeUndefined();
  });

  it("serves nothing stored before the caller's generation changed (the upstream refused it since), nor while it has none", () => {
    let generation: number | undefined = 1;
    const { cache } = setUp({ generationOf: () => generation });
    const key = cache.keyOf(request(), '', 'body')!;
    cache.offer(key, request(), { verdict: true }, { status: 200, headers: OK_HEADERS, body: '{"data":{}}' });
    expect(cache.lookup(key, request())).toBeDefined();
    generation = undefined;
    expect(cache.lookup(key, request())).toBeUndefined();
    generation = 2;
    expect(cache.lookup(key, request())).toBeUndefined();
  });

  it('does not cache a request without usable credentials', () => {
    expect(setUp().cache.keyOf(request({ token: 'bad' }), '', 'body')).toBeUndefined();
  });

  it('keeps to its byte bound: an answer larger than the bound is never stored', () => {
    const { cache } = setUp({ maxBytes: 1024 });
    const key = cache.keyOf(request(), '', 'body')!;
    cache.offer(key, request(), { verdict: true }, { status: 200, headers: OK_HEADERS, body: 'x'.repeat(1024) });
    expect(cache.lookup(key, request())).toBeUndefined();
  });

  it('gives a different key to every difference in scope or request, and the same key to the same request', () => {
    const { cache } = setUp();
    const base = { token: 'token-aaaaaaaa', project: 'p1', method: 'POST', accept: 'application/json', contentType: 'application/json', search: '', body: '{}' };
    const keyOf = (r: typeof base) => cache.keyOf(request(r), r.search, r.body);
    expect(keyOf({ ...base })).toBe(keyOf(base));
    const variants = [
      { token: 'token-bbbbbbbb' },
      { project: 'p2' },
      { method: 'GET' },
      { accept: 'application/graphql-response+json' },
      { contentType: 'text/plain' },
      { search: '?query=%7Ba%7D' },
      { body: '{"variables":{}}' },
    ];
    const keys = new Set([keyOf(base), ...variants.map((v) => keyOf({ ...base, ...v }))]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('never lets two tokens share a key, whatever the request (property)', () => {
    const { cache } = setUp();
    fc.assert(
      fc.property(fc.string({ minLength: 10 }), fc.string({ minLength: 10 }), fc.string(), fc.string(), (a, b, search, body) => {
        fc.pre(a !== b && a !== 'bad' && b !== 'bad');
        expect(cache.keyOf(request({ token: a }), search, body)).not.toBe(cache.keyOf(request({ token: b }), search, body));
      }),
    );
  });
});
