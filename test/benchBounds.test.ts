import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { Bound } from '../bench/boundServer';
import { createColdBound } from '../bench/coldBound';
import { createStackBound } from '../bench/stackBound';
import { planPageCalls } from '../src/pagination/pages';
import { gatewayRequest } from '../bench/scenarios';
import { walkCursors } from '../bench/servers';
import { DEMO_PROJECT_ID, DEMO_TOKEN, SEED, startSimulator, type Simulator } from '@cse-jobs-gateway/simulator';

type Options = { upstream: string; projectId: string };

const bounds: ReadonlyArray<[string, (options: Options) => Bound | Promise<Bound>]> = [
  ['coldBound.ts', createColdBound],
  ['stackBound.ts, lean', (options) => createStackBound({ ...options, mode: 'lean' })],
  ['stackBound.ts, Apollo\'s defaults', (options) => createStackBound({ ...options, mode: 'apollo' })],
];

/**
 * The cold page's bounds are yardsticks too: each must do the work it stands for — the floor's
 * upstream calls, and the window's items answered — or its figures say nothing.
 */
describe.each(bounds)('bench bound for a cold page (%s), against the simulator', (_name, create) => {
  let simulator: Simulator;
  let bound: Bound;
  let url: string;
  let cursors: string[];

  beforeAll(async () => {
    simulator = await startSimulator();
    bound = await create({ upstream: simulator.url, projectId: DEMO_PROJECT_ID });
    await new Promise<void>((resolve) => bound.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(bound.server.address() as AddressInfo).port}/graphql`;
    cursors = await walkCursors(url);
  });
  afterAll(async () => {
    await bound.close();
    await simulator.close();
  });

  const upstreamPage = async (page: number) => {
    const path = `/v2/${DEMO_PROJECT_ID}/enginemgr/engines/${SEED.engines.big}/jobs?offset=${page}&limit=100`;
    const response = await request(`${simulator.url}${path}`, { headers: { 'x-auth-token': DEMO_TOKEN } });
    return (await response.body.json()) as { total: number; data: Array<{ id: number }> };
  };
  const upstreamIds = async (page: number) => (await upstreamPage(page)).data.map((job) => String(job.id));

  it('walks the whole list, as the benchmark does before it measures', async () => {
    expect(cursors).toHaveLength((await upstreamPage(1)).total);
  });

  it.each([
    [12, 40],
    [30, 100],
    [10, 0],
  ])('S6: a document of first %i after item %i, the floor\'s upstream calls and the window\'s items', async (first, afterIndex) => {
    simulator.resetCalls();
    const ask = gatewayRequest({ kind: 'inlinePage', first, afterIndex, nonce: 7 }, cursors, DEMO_TOKEN, new URL(url).pathname);
    const response = await request(url, { method: 'POST', headers: ask.headers, body: ask.body });
    const body = (await response.body.json()) as { data: { engine: { jobs: { edges: Array<{ cursor: string; node: { id: string } }> } } } };
    const { edges } = body.data.engine.jobs;
    const start = afterIndex + 1;
    expect(simulator.callCount({ route: 'listJobs' })).toBe(planPageCalls(start, start + first, 100).length);
    expect(edges.map((edge) => edge.cursor)).toEqual(cursors.slice(start, start + first));
    const ids: string[] = [];
    for (let page = 1; ids.length < start + first; page += 1) ids.push(...(await upstreamIds(page)));
    expect(edges.map((edge) => edge.node.id)).toEqual(ids.slice(start, start + first));
  });
});
