import { CallLog, MAX_RECORDED_CALLS } from '../src/recorder';
import { DEMO_PROJECT_ID, DEMO_TOKEN, SEED, startSimulator, type Simulator } from '../src';
import { api, call, withQuery } from './support';

const { engines } = SEED;

describe('simulator call recording', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.resetCalls());

  it('records each request in order, with route, ids, query, headers and status', async () => {
    await call(sim, withQuery(api.jobs(engines.onePage), { offset: 2, limit: 5, 'from-time': 1 }), {
      headers: {
        'X-Enterprise-Project-ID': 'ep-1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'X-Request-Id': 'caller-req-1',
        'Content-Type': 'application/json;charset=UTF-8',
      },
    });
    await call(sim, api.job(engines.onePage, 'abc'));
    await call(sim, api.engine(engines.single), { token: null });

    const calls = sim.calls;
    expect(calls).toHaveLength(3);
    expect(calls[0]).toEqual({
      method: 'GET',
      route: 'listJobs',
      path: api.jobs(engines.onePage),
      query: { offset: '2', limit: '5', 'from-time': '1' },
      headers: {
        'x-auth-token': DEMO_TOKEN,
        'x-enterprise-project-id': 'ep-1',
        accept: 'application/json',
        'content-type': 'application/json;charset=UTF-8',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'x-request-id': 'caller-req-1',
      },
      projectId: DEMO_PROJECT_ID,
      engineId: engines.onePage,
      status: 200,
      answeredAt: expect.any(Number),
    });
    expect(calls[1]).toMatchObject({ route: 'getJob', engineId: engines.onePage, jobId: 'abc', status: 400 });
    expect(calls[2]).toMatchObject({ route: 'getEngine', engineId: engines.single, status: 401 });
    expect(calls[2]?.headers['x-auth-token']).toBeUndefined();
    expect(calls[2]?.headers['x-enterprise-project-id']).toBeUndefined();
  });

  it('does not let the enterprise project header filter anything', async () => {
    const plain = await call(sim, api.engines());
    const scoped = await call(sim, api.engines(), { headers: { 'X-Enterprise-Project-ID': 'some-other-ep' } });
    expect(scoped.json()).toEqual(plain.json());
  });

  it('records unknown routes but not the admin routes', async () => {
    await call(sim, '/v2/p/enginemgr/flavors?x=1');
    await fetch(`${sim.url}/__sim/calls`).then((res) => res.text());
    expect(sim.calls).toEqual([expect.objectContaining({ route: 'unknown', path: '/v2/p/enginemgr/flavors', query: { x: '1' }, status: 404 })]);
    expect(sim.calls[0]?.projectId).toBeUndefined();
  });

  it('counts calls with filters', async () => {
    await call(sim, api.engines());
    await call(sim, api.engine(engines.single));
    await call(sim, api.jobs(engines.single));
    await call(sim, api.jobs(engines.big));
    await call(sim, api.job(engines.big, 1));
    expect(sim.callCount()).toBe(5);
    expect(sim.callCount({})).toBe(5);
    expect(sim.callCount({ route: 'listJobs' })).toBe(2);
    expect(sim.callCount({ engineId: engines.big })).toBe(2);
    expect(sim.callCount({ route: 'listJobs', engineId: engines.big })).toBe(1);
    expect(sim.callCount({ jobId: '1' })).toBe(1);
    expect(sim.callCount({ projectId: DEMO_PROJECT_ID })).toBe(5);
    expect(sim.callCount({ projectId: 'other' })).toBe(0);
  });

  it('gives a snapshot: an array already read does not change', async () => {
    await call(sim, api.engines());
    const before = sim.calls;
    await call(sim, api.engines());
    expect(before).toHaveLength(1);
    expect(sim.calls).toHaveLength(2);
    sim.resetCalls();
    expect(sim.calls).toEqual([]);
    expect(sim.callCount()).toBe(0);
  });

  it('keeps the first value of a repeated query parameter', async () => {
    const res = await call(sim, `${api.jobs(engines.onePage)}?limit=3&limit=50`);
    expect(res.json().data).toHaveLength(3);
    expect(sim.calls[0]?.query).toEqual({ limit: '3' });
  });

  it('answers every request with a distinct X-Request-Id', async () => {
    const ids = new Set<string | null>();
    for (const path of [api.engines(), api.engine('nope'), '/nowhere', api.jobs(engines.single)]) {
      ids.add((await call(sim, path)).headers.get('x-request-id'));
    }
    expect(ids.size).toBe(4);
    expect(ids).not.toContain(null);
  });
});

describe('a call log that runs as long as the demo', () => {
  it('keeps a bounded number of calls and long header values by length only, while counting every call', () => {
    const log = new CallLog();
    const token = `long-${'t'.repeat(2000)}`;
    const match = { route: 'listEngines' as const, projectId: 'p' };
    const total = MAX_RECORDED_CALLS + 100;
    for (let i = 0; i < total; i += 1) log.record('GET', '/v2/p/enginemgr/engines', {}, { 'x-auth-token': token }, match);
    expect(log.count()).toBe(total);
    const kept = log.snapshot();
    expect(kept.length).toBeLessThanOrEqual(MAX_RECORDED_CALLS);
    expect(kept[0]!.headers['x-auth-token']).toBe(`<${token.length} characters>`);
  });
});
