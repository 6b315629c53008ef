import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { createFloorServer, type Floor } from '../bench/floor';
import { DEMO_PROJECT_ID, DEMO_TOKEN, SEED, startSimulator, type Simulator } from '@cse-jobs-gateway/simulator';

/**
 * The floor is the benchmark's yardstick: it must make the calls the gateway should make (no
 * more, no fewer) and relay the upstream JSON byte for byte.
 */
describe('bench floor (pass-through) against the simulator', () => {
  let simulator: Simulator;
  let floor: Floor;
  let base: string;
  const big = SEED.engines.big;

  beforeAll(async () => {
    simulator = await startSimulator();
    floor = createFloorServer({ upstream: simulator.url, projectId: DEMO_PROJECT_ID });
    await new Promise<void>((resolve) => floor.server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(floor.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await floor.close();
    await simulator.close();
  });
  beforeEach(() => simulator.resetCalls());

  const get = async (path: string, token: string | null = DEMO_TOKEN) => {
    const response = await request(`${base}${path}`, { headers: token === null ? {} : { 'x-auth-token': token } });
    return { status: response.statusCode, text: await response.body.text() };
  };
  const upstream = async (path: string) => {
    const response = await request(`${simulator.url}${path}`, { headers: { 'x-auth-token': DEMO_TOKEN } });
    return response.body.text();
  };
  const jobsPath = `/v2/${DEMO_PROJECT_ID}/enginemgr/engines/${big}/jobs`;

  it.each([
    ['S1: items 0..19', 0, 'offset=1&limit=20'],
    ['S2: items 15..34', 15, 'offset=1&limit=35'],
  ])('%s: one upstream call, its body relayed untouched', async (_name, start, query) => {
    const answer = await get(`/jobs?engine=${big}&start=${start}&count=20`);
    expect(answer.status).toBe(200);
    expect(simulator.calls.map((call) => call.query)).toEqual([Object.fromEntries(new URLSearchParams(query))]);
    expect(simulator.calls[0]?.headers['x-auth-token']).toBe(DEMO_TOKEN);
    expect(answer.text).toBe(await upstream(`${jobsPath}?${query}`));
  });

  it('a window no single page holds: the two calls the gateway would make, bodies side by side', async () => {
    // Items 1..100 with pages of at most 100: no page size puts both ends on one page.
    const answer = await get(`/jobs?engine=${big}&start=1&count=100`);
    expect(simulator.callCount({ route: 'listJobs' })).toBe(2);
    const pages = JSON.parse(answer.text) as Array<{ data: unknown[] }>;
    expect(pages).toHaveLength(2);
  });

  it('the dashboard: the engine list, then 7 job lists — 8 calls', async () => {
    const answer = await get('/dashboard?engines=7&jobs=5');
    expect(answer.status).toBe(200);
    expect(simulator.callCount({ route: 'listEngines' })).toBe(1);
    expect(simulator.callCount({ route: 'listJobs' })).toBe(7);
    const body = JSON.parse(answer.text) as { engines: { data: unknown[] }; jobs: Array<{ total: number }> };
    expect(body.engines.data).toHaveLength(7);
    expect(body.jobs).toHaveLength(7);
  });

  it.each([
    ['no token', `/jobs?engine=${big}&start=0&count=20`, null, 400],
    ['a bad engine id', '/jobs?engine=..%2Fx&start=0&count=20', DEMO_TOKEN, 400],
    ['a negative start', `/jobs?engine=${big}&start=-1&count=20`, DEMO_TOKEN, 400],
    ['a count above the page maximum', `/jobs?engine=${big}&start=0&count=101`, DEMO_TOKEN, 400],
    ['an unknown path', '/nothing', DEMO_TOKEN, 404],
  ])('%s: refused before any upstream call', async (_name, path, token, status) => {
    const answer = await get(path, token);
    expect(answer.status).toBe(status);
    expect(simulator.callCount()).toBe(0);
    expect(answer.text).not.toContain('127.0.0.1');
  });

  it('an upstream refusal is relayed as the upstream sent it', async () => {
    const answer = await get(`/jobs?engine=${big}&start=0&count=20`, 'not-a-valid-token-at-all');
    expect(answer.status).toBe(401);
    expect(answer.text).toContain('APIG.0301');
  });
});
