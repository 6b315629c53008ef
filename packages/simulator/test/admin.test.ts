import { SEED, startSimulator, type Simulator } from '../src';
import { api, call } from './support';

const { engines } = SEED;

async function admin(sim: Simulator, method: string, path: string, body?: unknown) {
  const res = await fetch(`${sim.url}/__sim/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

describe('simulator admin routes', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  it('GET /__sim/calls lists the recorded calls without recording itself', async () => {
    await call(sim, api.engines());
    await call(sim, api.engine(engines.single));
    const res = await admin(sim, 'GET', 'calls');
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body.count).toBe(2);
    expect(body.calls.map((c: any) => c.route)).toEqual(['listEngines', 'getEngine']);
    expect((await admin(sim, 'GET', 'calls')).json().count).toBe(2);
  });

  it('POST /__sim/faults injects a fault and DELETE removes it', async () => {
    const created = await admin(sim, 'POST', 'faults', { route: 'listEngines', status: 503, dialect: 'apig', headers: { 'Retry-After': '2' } });
    expect(created.status).toBe(201);
    const { id } = created.json();
    expect(id).toEqual(expect.any(Number));
    const faulted = await call(sim, api.engines());
    expect(faulted.status).toBe(503);
    expect(faulted.headers.get('retry-after')).toBe('2');
    expect((await admin(sim, 'DELETE', `faults/${id}`)).status).toBe(204);
    expect((await admin(sim, 'DELETE', `faults/${id}`)).status).toBe(404);
    expect((await call(sim, api.engines())).status).toBe(200);
  });

  it('DELETE /__sim/faults clears every fault', async () => {
    await admin(sim, 'POST', 'faults', { route: 'listEngines', status: 500 });
    await admin(sim, 'POST', 'faults', { route: 'getEngine', status: 500 });
    expect((await admin(sim, 'DELETE', 'faults')).status).toBe(204);
    expect((await call(sim, api.engines())).status).toBe(200);
    expect((await call(sim, api.engine(engines.single))).status).toBe(200);
  });

  it('refuses an invalid fault with 400', async () => {
    expect((await admin(sim, 'POST', 'faults', { route: 'nope' })).status).toBe(400);
    expect((await admin(sim, 'POST', 'faults', '{not json')).status).toBe(400);
    expect((await admin(sim, 'POST', 'faults', [1])).status).toBe(400);
  });

  it('POST /__sim/engines/{id}/jobs adds jobs at the head', async () => {
    const res = await admin(sim, 'POST', `engines/${engines.onePage}/jobs`, { count: 2 });
    expect(res.status).toBe(201);
    const added = res.json();
    expect(added).toHaveLength(2);
    const list = (await call(sim, api.jobs(engines.onePage))).json();
    expect(list.total).toBe(22);
    expect(list.data.slice(0, 2)).toEqual(added);
  });

  it('answers adding jobs to an unknown engine with 404, a bad count with 400', async () => {
    expect((await admin(sim, 'POST', 'engines/nope/jobs', { count: 1 })).status).toBe(404);
    expect((await admin(sim, 'POST', `engines/${engines.single}/jobs`, { count: -2 })).status).toBe(400);
    expect((await admin(sim, 'POST', `engines/${engines.single}/jobs`, { count: 'two' })).status).toBe(400);
  });

  it('POST /__sim/reset restores the seed, faults and calls', async () => {
    await admin(sim, 'POST', `engines/${engines.onePage}/jobs`, { count: 3 });
    await admin(sim, 'POST', 'faults', { route: 'getEngine', status: 500 });
    await call(sim, api.engines());
    expect((await admin(sim, 'POST', 'reset')).status).toBe(204);
    expect(sim.callCount()).toBe(0);
    expect((await call(sim, api.jobs(engines.onePage))).json().total).toBe(20);
    expect((await call(sim, api.engine(engines.single))).status).toBe(200);
  });

  it('answers unknown admin routes with 404 and needs no token', async () => {
    expect((await admin(sim, 'GET', 'nothing')).status).toBe(404);
    expect((await admin(sim, 'GET', 'reset')).status).toBe(404);
    expect((await admin(sim, 'POST', `engines/${engines.single}/jobs/extra`, { count: 1 })).status).toBe(404);
    expect(sim.callCount()).toBe(0);
  });
});
