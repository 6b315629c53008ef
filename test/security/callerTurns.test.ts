import { DEMO_PROJECT_ID, DEMO_TOKEN, SECOND_TOKEN } from '@cse-jobs-gateway/simulator';
import { callerDigest } from '../../src/cache/scopeKey';
import { nextTurn } from '../../src/upstream/turns';
import { startGatewayOn, type GatewayHarness } from '../support/harness';
import { eventually } from '../support/liveClient';
import { open } from '../support/rawConnections';
import { jobPageText, startFakeUpstream, type FakeUpstream } from '../support/upstream';

/**
 * Operations' long work (lists made a turn at a time) takes turns by caller: one caller's many operations
 * share one place in each round, so another caller's operation of the same size, sent after them, is not
 * served after all of them.
 */

const ENGINE = 'e-turns';
const PAGE = jobPageText(ENGINE, 100, 3);
let upstream: FakeUpstream;
let gateway: GatewayHarness;
beforeAll(async () => {
  upstream = await startFakeUpstream((path) => {
    if (path.split('?')[0]?.endsWith(`/engines/${ENGINE}/jobs`)) return PAGE;
    if (path.split('?')[0]?.endsWith(`/engines/${ENGINE}`)) return JSON.stringify({ id: ENGINE, name: 'turns', status: 'Available' });
    return undefined;
  });
  // A share of answers being made that these never fill: the turns alone are measured.
  gateway = await startGatewayOn(upstream, { OPERATION_MAX_UPSTREAM_BYTES: String(256 * 1024 * 1024), LOG_LEVEL: 'info' });
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

// 25 aliases × 100 jobs × their tasks: many turns' worth of fields each; aliases of its own per operation,
// so that none is shared with another in flight or answered from the cache.
const query = (n: number) => `{ engine(id: "${ENGINE}") { ${Array.from({ length: 25 }, (_, i) => `o${n}j${i}: jobs(first: 100) { nodes { id type status description startTime endTime tasks { id name status order } } edges { cursor node { id status } } }`).join(' ')} } }`;

async function post(token: string, n: number): Promise<void> {
  const response = await gateway.gql(query(n), undefined, { 'x-auth-token': token });
  expect(response.body.errors).toBeUndefined();
}

it("serves another caller's operation between a busy caller's, not after all of them", async () => {
  await post(DEMO_TOKEN, 99);
  const finished: string[] = [];
  const busy = Array.from({ length: 8 }, (_, i) => post(DEMO_TOKEN, i).then(() => finished.push(`busy${i}`)));
  // Sent once the busy caller's operations are all under way.
  await new Promise((resolve) => setTimeout(resolve, 30));
  const other = post(SECOND_TOKEN, 8).then(() => finished.push('other'));
  await Promise.all([...busy, other]);
  // Taking turns per operation, the last one sent finishes among the last; per caller, among the first.
  expect(finished.indexOf('other')).toBeLessThanOrEqual(1);
  expect(finished).toHaveLength(9);
  // The operations' own work, a few seconds alone, takes several times that beside the rest of the suite.
}, 60_000);

describe('a request waits for its caller\'s turn while other work waits for its own', () => {
  it('is parsed and run in that turn: one whose caller left meanwhile is not', async () => {
    const before = gateway.logs.length;
    // The caller's place is taken for many rounds: its new request waits behind these steps.
    const digest = callerDigest({ token: DEMO_TOKEN, projectId: DEMO_PROJECT_ID, enterpriseProjectId: undefined });
    const held = Promise.all(Array.from({ length: 500 }, () => nextTurn(digest)));
    const connection = await open(gateway.gateway.port);
    const body = JSON.stringify({ query: 'query LeftBeforeItsTurn { __typename }' });
    connection.socket.end(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Auth-Token: ${DEMO_TOKEN}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    connection.socket.destroy();
    await held;
    const operations = () => gateway.logs.slice(before).map((text) => JSON.parse(text) as Record<string, unknown>).filter((line) => line.msg === 'graphql operation');
    await eventually(() => operations().length > 0, 'its log line');
    // Run, it would have been answered with no error (and named): its caller had left before its turn came.
    expect(operations()).toEqual([expect.objectContaining({ operationName: null, operationType: null, outcome: 'aborted' })]);
  });

  it('goes on at once when nothing waits for a turn', async () => {
    const response = await gateway.gql('query AtOnce { __typename }');
    expect(response.body).toEqual({ data: { __typename: 'Query' } });
  });
});
