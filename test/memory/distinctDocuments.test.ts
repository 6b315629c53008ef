import { Pool, request } from 'undici';
import { gatewayEnv } from '../../bench/servers';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { gatewayProcessSuite, type GatewayProcess } from '../support/gatewayProcess';

/**
 * A flood of documents the gateway has never seen must not grow its memory without bound: every
 * cache keyed by a document — Apollo's document store, the shapes known valid, the shape use
 * counts, the compiled plans, the cost memo, the whole-response cache — is bounded (by bytes, or
 * by a count of fixed-size keys) and drops its least recently used entries.
 *
 * The real gateway process in production, its byte-bounded caches set small so that a few
 * hundred documents fill each of them: a bound proven at a small size is the same code at the
 * default size, and the flood need only be large enough that an unbounded cache would break it.
 * Distinct documents through HTTP, each sent twice (so the document store keeps it), each with an
 * operation name, aliases and a page size of its own (so a shape of its own), padded with a comment
 * to about 24 KB of text: kept, the texts alone would take twice the asserted growth. The process runs with an old generation of 128 MB, and
 * its heap after the flood is compared with its heap after the first fifth, once every cache is
 * full. One in ten requests is a document of one hot shape with other inline numbers, so plans
 * are compiled and used throughout.
 */
const DOCUMENTS = 2_500;
const CLIENTS = 8;
const PADDING = `# ${'x'.repeat(24_000)}\n`;
const MAX_GROWTH_BYTES = 24 * 1024 * 1024;
const SMALL_CACHES = {
  DOCUMENT_CACHE_MAX_BYTES: String(4 * 1024 * 1024),
  COMPILED_PLANS_MAX_BYTES: String(2 * 1024 * 1024),
  OPERATION_CACHE_MAX_BYTES: String(2 * 1024 * 1024),
  CACHE_MAX_BYTES: String(4 * 1024 * 1024),
};

const suite = gatewayProcessSuite();

/** Document `i`: a shape of its own, or (one in ten) the hot shape with inline numbers of its own. */
function documentNumber(i: number): string {
  if (i % 10 === 0) return `${PADDING}{ engines(first: ${1 + (i % 7)}) { totalCount nodes { id name } } }`;
  return `${PADDING}query Flood${i} { a${i}: engines(first: ${1 + (i % 5)}) { totalCount } b${i}: __typename }`;
}

/** The gateway's heap in use, from its own /metrics (prom-client's process metrics; on METRICS_PORT in production). */
async function heapUsed(gateway: GatewayProcess): Promise<number> {
  const response = await request(gateway.metricsUrl!);
  const text = await response.body.text();
  const used = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text)?.[1];
  if (used === undefined) throw new Error('no nodejs_heap_size_used_bytes in /metrics');
  return Number(used);
}

it(`keeps its heap bounded through ${DOCUMENTS.toLocaleString('en')} distinct documents`, async () => {
  const gateway = await suite.start({ ...gatewayEnv(suite.simulator.url, 'default'), ...SMALL_CACHES, LOG_LEVEL: 'warn' }, ['--max-old-space-size=128']);
  const pool = new Pool(gateway.url.origin, { connections: CLIENTS, pipelining: 1 });
  try {
    let next = 0;
    let failures = 0;
    const run = async (until: number) => {
      const client = async () => {
        while (next < until) {
          const query = documentNumber(next++);
          // Twice: the document store keeps a document from its second sight.
          for (const _sight of [1, 2]) {
            const response = await pool.request({
              path: gateway.url.pathname,
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_TOKEN },
              body: JSON.stringify({ query }),
            });
            const body = (await response.body.json()) as { data?: unknown; errors?: unknown };
            if (response.statusCode !== 200 || body.errors !== undefined) failures += 1;
          }
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, client));
    };
    await run(DOCUMENTS / 5);
    const early = await heapUsed(gateway);
    await run(DOCUMENTS);
    const late = await heapUsed(gateway);
    expect(failures).toBe(0);
    expect(gateway.child.exitCode).toBeNull();
    process.stdout.write(`heap after ${DOCUMENTS / 5} documents: ${(early / 2 ** 20).toFixed(1)} MB; after ${DOCUMENTS}: ${(late / 2 ** 20).toFixed(1)} MB\n`);
    expect(late - early).toBeLessThan(MAX_GROWTH_BYTES);
  } finally {
    await pool.close();
  }
}, 600_000);
