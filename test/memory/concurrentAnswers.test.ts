import { Pool } from 'undici';
import { gatewayEnv } from '../../bench/servers';
import { DEMO_PROJECT_ID, DEMO_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { gatewayProcessSuite } from '../support/gatewayProcess';

/**
 * One caller's large operations at once are made a share's worth at a time, its oldest first: what they
 * hold while being made is many times their bytes (an object per value, a path per field), so answering
 * them all at once took a heap of several times their answers, however small each. Here a caller sends 16
 * operations at once, each an 8.5 MB answer of 29 aliases of the 350-job engine's first 100 jobs, to a gateway
 * whose heap is 384 MB: made all at once they need over a GB (the process dies, out of memory); a share's
 * worth at a time, every one is answered whole.
 */
const OPERATIONS = 16;
const ALIASES = 29;
const TASK = 'id jobId type assigned name engineName order status startTime endTime createTime updateTime timedOut log output executor { durationMs description }';
const ENGINE = 'id name description type status flavor version latestVersion authType createUser createTime enterpriseProjectId';
const JOB = `id engineId type description status scheduling createUser startTime endTime durationMs context tasks { ${TASK} } engine { ${ENGINE} }`;

// A token of the demo project per operation: one user can hold many, and each is a caller of its own.
const TOKENS = Array.from({ length: OPERATIONS }, (_, i) => (i === 0 ? DEMO_TOKEN : `cse-many-token-${String(i).padStart(16, '0')}`));
const suite = gatewayProcessSuite({ tokens: Object.fromEntries(TOKENS.map((token) => [token, { projects: [DEMO_PROJECT_ID] }])) });

// Aliases of its own per operation: no two are answered by one execution or from the cache.
const query = (n: number) =>
  `{ engine(id: "${SEED.engines.big}") { ${Array.from({ length: ALIASES }, (_, i) => `o${n}a${i}: jobs(first: 100) { nodes { ...J } edges { cursor node { ...J } } }`).join(' ')} } } fragment J on Job { ${JOB} }`;

/** A request's status and its errors' codes ('whole' without errors), its body not kept; or how it failed. */
async function outcome(pool: Pool, path: string, token: string, query: string): Promise<string> {
  try {
    const response = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json', 'x-auth-token': token }, body: JSON.stringify({ query }) });
    const body = JSON.parse(await response.body.text()) as { errors?: Array<{ extensions?: { code?: string } }> };
    const codes = [...new Set(body.errors?.map((error) => error.extensions?.code))];
    return `${response.statusCode} ${codes.length === 0 ? 'whole' : codes.join(',')}`;
  } catch (error) {
    return `failed ${(error as { code?: string }).code}`;
  }
}

/** `OPERATIONS` operations at once, the n-th with `tokenOf(n)`, to a gateway in a 384 MB heap: each answered whole. */
async function answeredWhole(tokenOf: (n: number) => string): Promise<void> {
  const gateway = await suite.start({ ...gatewayEnv(suite.simulator.url, 'default'), REQUEST_TIMEOUT_MS: '60000' }, ['--max-old-space-size=384']);
  const pool = new Pool(gateway.url.origin, { connections: OPERATIONS });
  try {
    const answers = await Promise.all(
      Array.from({ length: OPERATIONS }, async (_, n) => {
        const response = await pool.request({
          path: gateway.url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-auth-token': tokenOf(n) },
          body: JSON.stringify({ query: query(n) }),
        });
        const text = await response.body.text();
        return { status: response.statusCode, bytes: text.length, body: JSON.parse(text) as { data?: any; errors?: unknown } };
      }),
    );
    for (const [n, answer] of answers.entries()) {
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data.engine[`o${n}a${ALIASES - 1}`].edges).toHaveLength(100);
    }
    expect(answers[0]!.bytes).toBeGreaterThan(8_000_000);
    expect(gateway.child.exitCode).toBeNull();
  } finally {
    await pool.close();
  }
}

it(`answers ${OPERATIONS} large operations of one caller at once, whole, within a small heap`, () => answeredWhole(() => DEMO_TOKEN), 180_000);

// Each token's oldest answer goes on past its share: eight tokens would have eight made at once.
it(`answers ${OPERATIONS} large operations of ${TOKENS.length} callers at once, whole, within the same heap`, () => answeredWhole((n) => TOKENS[n % TOKENS.length]!), 180_000);

/**
 * Many more at once than the bounds make at a time: each took its first pages and began its answer before
 * it counted anything, and held them while it waited (256 of them exhausted a 259 MB heap, the heap Node.js
 * gives itself in the manifests' 512Mi container). Each now takes a place before its first upstream call:
 * those waiting for one hold nothing fetched. The process stays up; each is answered whole or ends at its
 * time-out; another caller's small query is answered meanwhile.
 */
it('stays up under 256 large operations at once in the heap of the manifests\' container', async () => {
  const many = 256;
  // Time for the oldest to be made while the others' documents are read in the same caller's turns, on a
  // loaded host (a test run's other workers).
  const gateway = await suite.start({ ...gatewayEnv(suite.simulator.url, 'default'), REQUEST_TIMEOUT_MS: '15000' }, ['--max-old-space-size=259']);
  const pool = new Pool(gateway.url.origin, { connections: many + 1 });
  try {
    const large = Array.from({ length: many }, (_, n) => outcome(pool, gateway.url.pathname, DEMO_TOKEN, query(n)));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const small = await outcome(pool, gateway.url.pathname, TOKENS[1]!, `{ engines(first: 3) { nodes { id name } } }`);
    const outcomes = await Promise.all(large);
    expect(small).toBe('200 whole');
    expect(outcomes.filter((outcome) => outcome !== '200 whole' && outcome !== '200 UPSTREAM_TIMEOUT')).toEqual([]);
    expect(outcomes).toContain('200 whole');
    expect(gateway.child.exitCode).toBeNull();
  } finally {
    await pool.close();
  }
}, 60_000);
