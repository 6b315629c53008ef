import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { sha256 } from '../../src/security/persistedQueries';
import { CACHES_OFF, startHarness, type Harness } from '../support/harness';

/**
 * Operation names come from callers. A name takes a metrics label of its own only once the upstream
 * has accepted that caller's credentials during the operation, or when the operation is on the
 * persisted query list: a made-up token cannot take the label slots and push the real operations
 * into `(other)`. In production, /metrics is not on the API port at all.
 */

async function scrape(h: Harness): Promise<string> {
  const response = await request(h.gateway.metricsUrl ?? h.gateway.url.replace('/graphql', '/metrics'));
  expect(response.statusCode).toBe(200);
  return response.body.text();
}

function operationLabels(text: string): Set<string> {
  return new Set([...text.matchAll(/^gateway_operations_total\{operation="([^"]*)"/gm)].map((match) => match[1]!));
}

describe('in production', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ...CACHES_OFF, NODE_ENV: 'production', METRICS_MAX_OPERATIONS: '100' });
  });
  afterAll(() => h.close());

  it('a valid token with no upstream call (`__typename` alone) is not vouched for either', async () => {
    await h.gql('query OnlyTypename { __typename }');
    expect(operationLabels(await scrape(h))).not.toContain('OnlyTypename');
  });

  it('100 operations named AttackerN with a made-up token take no label slot: Dashboard, sent next with a valid token, is its own label', async () => {
    const calls = h.simulator.callCount();
    for (let i = 0; i < 100; i += 1) {
      // Half make no upstream call at all, half are refused by it (401).
      const query = i % 2 === 0 ? `query Attacker${i} { __typename }` : `query Attacker${i} { engines(first: 1) { totalCount } }`;
      const response = await h.gql(query, undefined, { 'x-auth-token': `made-up-${i}` });
      expect(response.status).toBeLessThan(500);
    }
    expect(h.simulator.callCount() - calls).toBeLessThanOrEqual(50);
    const dashboard = await h.gql('query Dashboard { engines(first: 2) { totalCount nodes { id } } }');
    expect(dashboard.body.errors).toBeUndefined();

    const text = await scrape(h);
    expect(text).toMatch(/^gateway_operations_total\{operation="Dashboard",outcome="success"\} 1$/m);
    const labels = operationLabels(text);
    expect([...labels].filter((label) => label.startsWith('Attacker'))).toEqual([]);
    expect(labels).toContain('(unverified)');
    expect(labels).not.toContain('(other)');
  });

  // The harness gives production gateways METRICS_PORT=0 (any free port) in place of the 9464 default.
  it('/metrics is on METRICS_PORT, not on the API port', async () => {
    expect(h.gateway.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const onApi = await request(h.gateway.url.replace('/graphql', '/metrics'));
    expect(onApi.statusCode).toBe(404);
    await onApi.body.dump();
  });
});

describe('PERSISTED_QUERIES=safelist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'labels-safelist-'));
  const LISTED = 'query Listed { __typename }';
  let h: Harness;
  beforeAll(async () => {
    const manifest = join(dir, 'manifest.json');
    writeFileSync(manifest, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: sha256(LISTED), name: 'Listed', type: 'query', body: LISTED }] }));
    h = await startHarness({ ...CACHES_OFF, PERSISTED_QUERIES: 'safelist', PERSISTED_QUERIES_MANIFEST: manifest });
  });
  afterAll(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a listed operation's name is its own label, though it made no upstream call", async () => {
    const response = await h.gql(LISTED, undefined, { 'x-auth-token': 'made-up' });
    expect(response.body.errors).toBeUndefined();
    expect(operationLabels(await scrape(h))).toContain('Listed');
  });
});
