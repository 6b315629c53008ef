import { startHarness, type Harness } from '../support/harness';

/**
 * `@defer` and `@stream` (incremental delivery) are refused with a documented code, through real
 * HTTP, as Apollo Client sends them: not a bare "Unknown directive", and nothing runs.
 */

/** What Apollo Client's HTTP link accepts when its operation has `@defer`. */
const APOLLO_CLIENT_DEFER_ACCEPT = 'multipart/mixed;deferSpec=20220824,application/json';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ LOG_LEVEL: 'info' });
});
afterAll(() => h?.close());

it.each([
  ['an inline fragment', 'query Dashboard { engines(first: 2) { nodes { id ... @defer { jobs(first: 3) { totalCount } } } } }', ['defer']],
  ['a named fragment spread, with a label', 'query { engines { nodes { id ...Jobs @defer(label: "jobs") } } } fragment Jobs on Engine { latestJob { id } }', ['defer']],
  ['@stream on a list, and @defer', 'query { engines { nodes @stream(initialCount: 1) { id ... @defer { name } } } }', ['stream', 'defer']],
])('%s → DEFER_NOT_SUPPORTED first, before any upstream call, no error log', async (_name, query, directives) => {
  const calls = h.simulator.callCount();
  const logged = h.logs.length;
  const response = await h.gql(query, undefined, { accept: APOLLO_CLIENT_DEFER_ACCEPT });
  expect(response.status).toBe(200);
  expect(response.body.data).toBeUndefined();
  const ours = response.body.errors!.filter((error) => error.extensions?.code === 'DEFER_NOT_SUPPORTED');
  expect(ours.map((error) => error.extensions?.directive)).toEqual(directives);
  expect(ours[0]!.message).toMatch(/^@(defer|stream) is not supported: this gateway answers every operation whole\. Split the operation/);
  // Ours come first; graphql-js's own "Unknown directive" errors may follow them.
  expect(response.body.errors!.slice(0, ours.length)).toEqual(ours);
  for (const other of response.body.errors!.slice(ours.length)) expect(other).toMatchObject({ message: expect.stringMatching(/^Unknown directive "@(defer|stream)"\.$/), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  expect(h.simulator.callCount()).toBe(calls);
  const lines = h.logs.slice(logged).map((line) => JSON.parse(line) as { level: string; msg: string; errorCodes?: string[] });
  expect(lines.filter((line) => ['error', 'fatal'].includes(line.level))).toEqual([]);
  // The access line (and so the metrics) names the codes the caller saw.
  const codes = [...new Set(response.body.errors!.map((error) => error.extensions?.code))];
  expect(lines.find((line) => line.msg === 'graphql operation')?.errorCodes).toEqual(codes);
});

it('the same operation without @defer runs', async () => {
  const response = await h.gql('query Dashboard { engines(first: 2) { nodes { id jobs(first: 3) { totalCount } } } }');
  expect(response.status).toBe(200);
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data.engines.nodes).toHaveLength(2);
});

it('another unknown directive is still plain GRAPHQL_VALIDATION_FAILED', async () => {
  const response = await h.gql('{ engines { totalCount @live } }');
  expect(response.status).toBe(200);
  expect(response.body.errors!.map((error) => error.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
});
