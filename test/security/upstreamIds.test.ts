import { SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';
import { send } from './http';

/**
 * Ids that come from the upstream's own answers go into the next calls' paths: they are checked
 * as a caller's ids are and percent-encoded, so a hostile or broken answer cannot steer a call —
 * made with the caller's token — to another path or add query parameters to it. A bad one fails
 * its field as UPSTREAM_BAD_RESPONSE, before any call and without counting against a breaker.
 */

const HOSTILE_ENGINE_IDS = ['../../../../v3/admin', 'a?inject=1&b=', 'e1/jobs/1?x=y', 'has space', 'ctl\u0001x', 'tab\tx', '%2e%2e', ''];

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ...CACHES_OFF, CSE_UPSTREAM_BREAKER_FAILURES: '3', CSE_BREAKER_FAILURES: '3' });
  await h.gql('{ engines(first: 1) { totalCount } }');
});
afterAll(() => h.close());
beforeEach(() => h.simulator.reset());

/** Every call the simulator received was to one of its four routes, with only paging and time in its query. */
function expectOnlyDocumentedCalls(): void {
  for (const call of h.simulator.calls) {
    expect(call.route).not.toBe('unknown');
    expect(call.path.startsWith('/v2/')).toBe(true);
    for (const name of Object.keys(call.query)) expect(['offset', 'limit', 'from-time', 'to-time']).toContain(name);
  }
}

it('refuses engine ids from an engine list that would change the path of the next call', async () => {
  const data = HOSTILE_ENGINE_IDS.map((id) => ({ id: id === '' ? 'x' : id, name: 'n', latestJobId: 1 }));
  h.simulator.injectFault({ route: 'listEngines', status: 200, body: { total: data.length, data } });
  const response = await h.gql('{ engines(first: 10) { nodes { id latestJob { id } } } }');
  // latestJob is nullable: each hostile engine's fails alone, the list itself stands.
  const bad = response.body.errors!.filter((e) => e.extensions!.code === 'UPSTREAM_BAD_RESPONSE');
  expect(bad.length).toBe(HOSTILE_ENGINE_IDS.length - 1);
  for (const error of bad) expect(error.message).toBe('The upstream sent an unusable engine id.');
  expect(response.body.data.engines.nodes.map((n: { id: string }) => n.id)).toEqual(data.map((d) => d.id));
  // The one usable id went out as usual (the simulator has no engine "x": not found, null).
  expect(h.simulator.callCount({ route: 'getJob' })).toBe(1);
  expect(h.simulator.calls.find((call) => call.route === 'getJob')?.engineId).toBe('x');
  expectOnlyDocumentedCalls();
});

it('refuses a latestJobId and a job engineId that are not ids', async () => {
  h.simulator.injectFault({ route: 'getEngine', engineId: SEED.engines.big, status: 200, body: { id: SEED.engines.big, name: 'n', latestJobId: '1?x=y' } });
  h.simulator.injectFault({ route: 'getJob', engineId: SEED.engines.single, status: 200, body: { id: 7, engineId: '../../v3/admin', status: 'Finished' } });
  const response = await h.gql(
    `{ engine(id: "${SEED.engines.big}") { latestJob { id } } job(engineId: "${SEED.engines.single}", id: "7") { id engine { id } } }`,
  );
  expect(errorCodes(response)).toEqual(['UPSTREAM_BAD_RESPONSE', 'UPSTREAM_BAD_RESPONSE']);
  // A job that names another engine is not the one asked for.
  expect(response.body.data).toEqual({ engine: { latestJob: null }, job: null });
  expectOnlyDocumentedCalls();
  expect(h.simulator.callCount()).toBe(2);
});

describe('an answer about another engine or job than the one asked for is a bad response', () => {
  const { big, single } = SEED.engines;
  it.each<[string, () => void, string]>([
    ['an engine of another id', () => h.simulator.injectFault({ route: 'getEngine', engineId: big, status: 200, body: { id: single, name: 'n' } }), `engine(id: "${big}") { id name }`],
    ['a job of another id', () => h.simulator.injectFault({ route: 'getJob', engineId: big, status: 200, body: { id: 8, engineId: big, status: 'Finished' } }), `job(engineId: "${big}", id: "7") { id }`],
    ['a job of another engine', () => h.simulator.injectFault({ route: 'getJob', engineId: big, status: 200, body: { id: 7, engineId: single, status: 'Finished' } }), `job(engineId: "${big}", id: "7") { id }`],
    ['a page with a job of another engine', () => h.simulator.injectFault({ route: 'listJobs', engineId: big, status: 200, body: { total: 2, data: [{ id: 1, engineId: big }, { id: 2, engineId: single }] } }), `engine(id: "${big}") { jobs(first: 2) { nodes { id } } }`],
  ])('%s', async (_name, inject, selection) => {
    inject();
    const response = await h.gql(`{ ${selection} }`);
    expect(errorCodes(response)).toEqual(['UPSTREAM_BAD_RESPONSE']);
    expect(JSON.stringify(response.body.data)).not.toMatch(new RegExp(`${single}|"8"|"2"`));
  });

  it('but an engine asked for in upper case is the same engine answered in lower case, and its jobs', async () => {
    const upper = big.toUpperCase();
    h.simulator.injectFault({ route: 'getEngine', status: 200, body: { id: big, name: 'n' } });
    h.simulator.injectFault({ route: 'getJob', status: 200, body: { id: 7, engineId: big, status: 'Finished' } });
    const response = await h.gql(`{ engine(id: "${upper}") { id } job(engineId: "${upper}", id: "7") { id } }`);
    expect(response.body).toEqual({ data: { engine: { id: big }, job: { id: '7' } } });
  });

  it("names a job's engine as it was asked: jobs spelling it in other cases cost no call of their own (the estimate counts none)", async () => {
    const spellings = [big.toUpperCase(), big, `${big.slice(0, 4).toUpperCase()}${big.slice(4)}`];
    const data = spellings.map((engineId, i) => ({ id: i + 1, engineId, status: 'Finished' }));
    h.simulator.injectFault({ route: 'listJobs', engineId: big, status: 200, body: { total: 3, data } });
    const response = await h.gql(`{ engine(id: "${big}") { name jobs(first: 3) { nodes { id engine { id name } } } } }`);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.engine.jobs.nodes.map((node: { engine: { id: string } }) => node.engine.id)).toEqual([big, big, big]);
    expect(h.simulator.callCount({ route: 'getEngine' })).toBe(1);
  });

  it('but a job asked for with leading zeros is the job of that number', async () => {
    h.simulator.injectFault({ route: 'getJob', engineId: big, status: 200, body: { id: 7, status: 'Finished' } });
    const response = await h.gql(`{ job(engineId: "${big}", id: "007") { id engine { id } } }`);
    expect(response.body).toEqual({ data: { job: { id: '7', engine: { id: big } } } });
  });
});

it('never counts a bad id against a breaker: readiness stays up and other callers are served', async () => {
  const data = [{ id: 'has space', name: 'n' }];
  h.simulator.injectFault({ route: 'listEngines', status: 200, body: { total: 1, data } });
  for (let i = 0; i < 10; i += 1) {
    const response = await h.gql('{ engines(first: 1) { nodes { id jobs(first: 1) { totalCount } } } }');
    expect(errorCodes(response)).toEqual(['UPSTREAM_BAD_RESPONSE']);
  }
  h.simulator.clearFaults();
  expect((await send(h.gateway.url.replace('/graphql', '/readyz'))).status).toBe(200);
  const healthy = await h.gql(`{ engine(id: "${SEED.engines.big}") { id jobs(first: 1) { totalCount } } }`);
  expect(healthy.body.errors).toBeUndefined();
});
