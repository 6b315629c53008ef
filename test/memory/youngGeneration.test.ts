import { Pool } from 'undici';
import { PAGE_QUERY, BIG_ENGINE_ID } from '../../bench/scenarios';
import { gatewayEnv, walkCursors } from '../../bench/servers';
import { DEMO_TOKEN } from '@cse-jobs-gateway/simulator';
import { gatewayProcessSuite } from '../support/gatewayProcess';

/** Clients at a time, as the S5 benchmark runs them. */
const CLIENTS = 10;

/**
 * An operation's data must be garbage that young-generation collections free, not memory that
 * waits in the old generation for the next full collection.
 *
 * It did wait, for three reasons, each a per-operation object that V8 keeps reachable for young
 * collections until the next full one: Apollo's gateway-interface request view (its own accessors;
 * see releaseExchange), p-limit's limiter (its own accessors; see InFlightLimiter), and
 * single-flight entries left behind in a long-lived Map's old hash table (see SingleFlight). With
 * them, about 40 KB per cold-page operation was copied into the old generation, and those copies
 * were most of the gateway's garbage-collection time.
 *
 * Measured with V8's own accounting: the real gateway process runs with `--trace-gc-nvp`, which
 * prints the bytes each young collection promoted. It is a count of bytes, not a timing: the
 * machine's speed does not change it. Cold pages (a different window every time), caches off,
 * ten clients at a time, as the S5 benchmark asks them. (The third cause shows only when the
 * gateway is saturated, as under the benchmark's load generator: 18 → 5 KB per operation there;
 * this test's client is too slow to reproduce it.)
 */
const suite = gatewayProcessSuite();

interface YoungCollections {
  count: number;
  promotedBytes: number;
}

/** Sums the young-generation collections (`gc=s`) of `--trace-gc-nvp` output. */
function youngCollections(output: string): YoungCollections {
  let count = 0;
  let promotedBytes = 0;
  for (const line of output.split('\n')) {
    if (!/ gc=s /.test(line)) continue;
    const promoted = / promoted=(\d+) /.exec(line);
    if (promoted === null) continue;
    count += 1;
    promotedBytes += Number(promoted[1]);
  }
  return { count, promotedBytes };
}

it('frees cold pages in young-generation collections: few bytes per operation reach the old generation', async () => {
  const gateway = await suite.start(gatewayEnv(suite.simulator.url, 'off'), ['--trace-gc-nvp']);
  const { url } = gateway;
  const pool = new Pool(url.origin, { connections: CLIENTS });
  try {
    const post = async (query: string, variables: Record<string, unknown>) => {
      const response = await pool.request({
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_TOKEN },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.body.json()) as { errors?: unknown };
      if (response.statusCode !== 200 || body.errors !== undefined) throw new Error(`HTTP ${response.statusCode}: ${JSON.stringify(body.errors)}`);
    };
    const cursors = await walkCursors(url.href);
    let next = 0;
    const run = async (operations: number) => {
      const client = async () => {
        while (next < operations) {
          next += 1;
          // Cold pages: windows after random items, as S5 asks them.
          await post(PAGE_QUERY, { id: BIG_ENGINE_ID, after: cursors[Math.floor(Math.random() * (cursors.length - 20))] });
        }
      };
      next = 0;
      await Promise.all(Array.from({ length: CLIENTS }, client));
    };

    await run(200); // warm-up: compiled code, pools, the collector's own sizing
    const mark = gateway.output().length;
    const operations = 800;
    await run(operations);
    const young = youngCollections(gateway.output().slice(mark));

    // Enough collections for the figure to mean something (each operation allocates ~300 KB).
    expect(young.count).toBeGreaterThanOrEqual(10);
    // About 5 KB now; 30–45 KB with either of the first two causes back (see above).
    expect(young.promotedBytes / operations).toBeLessThan(12 * 1024);
  } finally {
    await pool.close();
    await gateway.kill();
  }
}, 120_000);
