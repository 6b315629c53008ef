import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/loadConfig';
import { startGateway } from '../../src/gateway';
import { createLogger } from '../../src/observability/logger';
import { SECOND_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';
import { protocolSocket } from '../support/liveClient';
import { postJson, send } from './http';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const QUERY = `query EngineName { engine(id: "${SEED.engines.big}") { id name } }`;
const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
/** QUERY's fields swapped by aliases: what a caller would put under QUERY's hash if it could. */
const SWAPPED = `query EngineName { engine(id: "${SEED.engines.single}") { id: name name: id } }`;

/** A `subscribe` whose payload names QUERY's hash for SWAPPED, sent twice (documents are kept from their second sight). */
async function offerUnder(url: string, hash: string): Promise<void> {
  const socket = await protocolSocket(url, { 'X-Auth-Token': 'a-made-up-token-of-forty-characters-0001' });
  socket.burst([1, 2].map((n) => ({ type: 'subscribe', id: `s${n}`, payload: { query: SWAPPED, hash } })));
  while (socket.received.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
  socket.socket.close();
}

describe('automatic persisted queries (default)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(CACHES_OFF);
  });
  afterAll(async () => {
    await h.close();
  });

  it('misses, registers, then hits', async () => {
    // A token no other test of this harness sends: the upstream has not accepted it yet.
    const as = { 'x-auth-token': SECOND_TOKEN };
    const hash = sha256(QUERY);
    h.simulator.resetCalls();
    const miss = await postJson(h.gateway.url, { extensions: persisted(hash) }, as);
    expect(miss.json().errors.map((e: any) => e.extensions.code)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(h.simulator.calls).toHaveLength(0);

    // Its first text runs unregistered: the upstream had not accepted the token when it was sent.
    const first = await postJson(h.gateway.url, { query: QUERY, extensions: persisted(hash) }, as);
    expect(first.json()).toEqual({ data: { engine: { id: SEED.engines.big, name: expect.any(String) } } });
    const missAgain = await postJson(h.gateway.url, { extensions: persisted(hash) }, as);
    expect(missAgain.json().errors.map((e: any) => e.extensions.code)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);

    const register = await postJson(h.gateway.url, { query: QUERY, extensions: persisted(hash) }, as);
    expect(register.json()).toEqual(first.json());

    // Registered for everyone: the demo token's hash-only request hits.
    const hit = await postJson(h.gateway.url, { extensions: persisted(hash) });
    expect(hit.json()).toEqual(register.json());
    expect(h.simulator.callCount({ route: 'getEngine' })).toBe(3);
  });

  it('registers no text of a caller the upstream refused: made-up tokens cannot push out the others\' texts', async () => {
    const padded = `${QUERY} # ${'x'.repeat(1000)}`;
    const hash = sha256(padded);
    const madeUp = await postJson(h.gateway.url, { query: padded, extensions: persisted(hash) }, { 'x-auth-token': 'a-made-up-token-of-forty-characters-0002' });
    expect(madeUp.json().errors.map((e: any) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
    const body = JSON.stringify({ query: padded, extensions: persisted(hash) });
    const anonymous = await send(h.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(anonymous.json().errors.map((e: any) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
    const lookedUp = await postJson(h.gateway.url, { extensions: persisted(hash) });
    expect(lookedUp.json().errors.map((e: any) => e.extensions.code)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it("keeps no caller's document under another text's hash: a `hash` in a WebSocket payload is not read", async () => {
    const text = `${QUERY} # not sent before`;
    await offerUnder(h.gateway.url, sha256(text));
    for (let i = 0; i < 2; i += 1) {
      expect((await h.gql(text)).body).toEqual({ data: { engine: { id: SEED.engines.big, name: expect.any(String) } } });
    }
  });

  it("keeps a caller's registered text while another registers text after text: each caller's are a share of the registry", async () => {
    const mine = `${QUERY} # registered before the flood`;
    expect((await h.gql('{ engines(first: 1) { totalCount } }')).body.errors).toBeUndefined();
    expect((await postJson(h.gateway.url, { query: mine, extensions: persisted(sha256(mine)) })).json().errors).toBeUndefined();
    const other = { 'x-auth-token': SECOND_TOKEN };
    expect((await postJson(h.gateway.url, { query: '{ engines(first: 1) { totalCount } }' }, other)).json().errors).toBeUndefined();
    // 48 texts of 200 KB: more than the whole registry (APQ_CACHE_MAX_BYTES, 8 MiB).
    for (let i = 0; i < 48; i += 1) {
      const text = `{ __typename }\n#${'x'.repeat(200_000)}${i}`;
      expect((await postJson(h.gateway.url, { query: text, extensions: persisted(sha256(text)) }, other)).status).toBe(200);
    }
    const hit = await postJson(h.gateway.url, { extensions: persisted(sha256(mine)) });
    expect(hit.json()).toEqual({ data: { engine: { id: SEED.engines.big, name: expect.any(String) } } });
  });

  it('refuses a registration whose hash does not match the query', async () => {
    const response = await postJson(h.gateway.url, { query: QUERY, extensions: persisted(sha256('something else')) });
    expect(response.status).toBe(400);
    expect(response.json().errors[0]).toMatchObject({ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } });
  });
});

describe('PERSISTED_QUERIES=off', () => {
  it('answers PERSISTED_QUERY_NOT_SUPPORTED', async () => {
    const h = await startHarness({ PERSISTED_QUERIES: 'off' });
    try {
      const response = await postJson(h.gateway.url, { extensions: persisted(sha256(QUERY)) });
      expect(response.json().errors.map((e: any) => e.extensions.code)).toEqual(['PERSISTED_QUERY_NOT_SUPPORTED']);
    } finally {
      await h.close();
    }
  });
});

describe('safelist (PERSISTED_QUERIES=safelist)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'safelist-'));
  const manifestPath = join(dir, 'persisted-query-manifest.json');
  writeFileSync(
    manifestPath,
    JSON.stringify({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: 'engine-name-v1', name: 'EngineName', type: 'query', body: QUERY }],
    }),
  );
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ...CACHES_OFF, PERSISTED_QUERIES: 'safelist', PERSISTED_QUERIES_MANIFEST: manifestPath });
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => h.simulator.reset());

  it('runs a listed operation sent as text', async () => {
    const response = await h.gql(QUERY);
    expect(response.body).toEqual({ data: { engine: { id: SEED.engines.big, name: expect.any(String) } } });
  });

  it('runs a listed operation sent by its manifest id', async () => {
    const response = await postJson(h.gateway.url, { extensions: persisted('engine-name-v1') });
    expect(response.text).toContain(SEED.engines.big);
    expect(response.json().data.engine.id).toBe(SEED.engines.big);
  });

  it('refuses an operation that is not in the list, before any upstream call', async () => {
    const response = await h.gql(`{ engine(id: "${SEED.engines.big}") { id name } }`);
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
    expect(h.simulator.calls).toHaveLength(0);
  });

  it('does not let APQ register an unlisted operation', async () => {
    const other = `{ engine(id: "${SEED.engines.single}") { id } }`;
    const register = await postJson(h.gateway.url, { query: other, extensions: persisted(sha256(other)) });
    expect(register.json().errors.map((e: any) => e.extensions.code)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
    const byHash = await postJson(h.gateway.url, { extensions: persisted(sha256(other)) });
    expect(byHash.json().errors.map((e: any) => e.extensions.code)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(h.simulator.calls).toHaveLength(0);
  });

  it('runs only the listed text under a listed id or hash, whatever a WebSocket payload named', async () => {
    await offerUnder(h.gateway.url, sha256(QUERY));
    await offerUnder(h.gateway.url, 'engine-name-v1');
    const expected = { data: { engine: { id: SEED.engines.big, name: expect.any(String) } } };
    expect((await h.gql(QUERY)).body).toEqual(expected);
    expect((await postJson(h.gateway.url, { extensions: persisted('engine-name-v1') })).json()).toEqual(expected);
  });

  it('still answers introspection while introspection is enabled (Sandbox)', async () => {
    const response = await h.gql('{ __schema { queryType { name } } }');
    expect(response.body.errors).toBeUndefined();
  });

  it('runs each listed id its own operation when ids share what follows a colon', async () => {
    const colons = join(dir, 'colons.json');
    const engines = 'query Engines { engines(first: 1) { totalCount } }';
    const operations = [
      { id: 'EngineName:v1', name: 'EngineName', type: 'query', body: QUERY },
      { id: 'Engines:v1', name: 'Engines', type: 'query', body: engines },
    ];
    writeFileSync(colons, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations }));
    const listed = await startHarness({ PERSISTED_QUERIES: 'safelist', PERSISTED_QUERIES_MANIFEST: colons });
    try {
      for (let i = 0; i < 2; i += 1) {
        expect((await postJson(listed.gateway.url, { extensions: persisted('Engines:v1') })).json()).toEqual({ data: { engines: { totalCount: expect.any(Number) } } });
        expect((await postJson(listed.gateway.url, { extensions: persisted('EngineName:v1') })).json()).toEqual({ data: { engine: { id: SEED.engines.big, name: expect.any(String) } } });
      }
    } finally {
      await listed.close();
    }
  });

  it('refuses to start with a bad manifest, naming the variable', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: 'x', name: 'X', type: 'query', body: '{ nope }' }] }));
    const config = loadConfig({ NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', PERSISTED_QUERIES: 'safelist', PERSISTED_QUERIES_MANIFEST: bad });
    const start = startGateway(config, { logger: createLogger('silent'), endpoint: h.simulator.url });
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow(/PERSISTED_QUERIES_MANIFEST=.*not valid against the schema/);
  });
});
