import { DEMO_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';

/** What the gateway writes to its log: useful facts, never a credential. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ LOG_LEVEL: 'trace' });
});
afterAll(async () => {
  await h.close();
});

it('logs an undocumented enum value once per value, however often it appears, one line an operation at most, and never fails on it', async () => {
  for (let i = 0; i < 4; i += 1) {
    // A document of its own each time: no answer reused, every operation runs.
    const query = `query Drift${i} ($id: ID!) { engine(id: $id) { jobs(first: 20) { nodes { type status tasks { type status } } } } }`;
    const before = h.logs.length;
    const response = await h.gql(query, { id: SEED.engines.drift });
    expect(response.body.errors).toBeUndefined();
    expect(h.logs.slice(before).filter((line) => line.includes('"kind"')).length).toBeLessThanOrEqual(1);
  }
  const unknown = h.logs.map((line) => JSON.parse(line)).filter((entry) => entry.kind !== undefined && entry.value !== undefined);
  const values = unknown.map((entry) => `${entry.kind}:${entry.value}`);
  expect(values).toEqual(expect.arrayContaining(['JobType:Rollback', 'JobStatus:Suspended']));
  expect(new Set(values).size).toBe(values.length);
});

it('never writes a token to the log, even when requests fail in every way', async () => {
  const refused = 'refused-token-abcdefghijklmnop';
  await h.gql('{ engines { totalCount } }');
  await h.gql('{ engines { totalCount } }', undefined, { 'x-auth-token': refused });
  await h.gql('{ engines { totalCount } }', undefined, { 'x-auth-token': undefined, authorization: `Bearer ${refused}` });
  h.simulator.injectFault({ route: 'listEngines', status: 500, dialect: 'cse', times: 1 });
  await h.gql('{ engines { totalCount } }');
  expect(h.logs.length).toBeGreaterThan(0);
  const all = h.logs.join('\n');
  expect(all).not.toContain(DEMO_TOKEN);
  expect(all).not.toContain(refused);
});
