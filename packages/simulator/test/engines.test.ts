import { DEMO_PROJECT_ID, OTHER_PROJECT_ID, OTHER_TOKEN, SEED, startSimulator, type Simulator } from '../src';
import { api, call, expectCseError, withQuery } from './support';

const DOCUMENTED_STATUSES = [
  'Creating',
  'Available',
  'Unavailable',
  'Deleting',
  'Deleted',
  'Upgrading',
  'Modifying',
  'CreateFailed',
  'DeleteFailed',
  'UpgradeFailed',
  'ModifyFailed',
  'Freezed',
];
const ENGINE_FIELDS = [
  'id',
  'name',
  'description',
  'type',
  'flavor',
  'payment',
  'authType',
  'status',
  'version',
  'latestVersion',
  'createUser',
  'createTime',
  'enterpriseProjectId',
  'enterpriseProjectName',
  'specType',
];

describe('simulator engines', () => {
  let sim: Simulator;
  let all: any[];
  beforeAll(async () => {
    sim = await startSimulator();
    const res = await call(sim, withQuery(api.engines(), { limit: 100 }));
    expect(res.status).toBe(200);
    all = res.json().data;
  });
  afterAll(() => sim.close());

  it('lists 30 engines in the demo project, without the gone one', async () => {
    const res = await call(sim, api.engines());
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body.total).toBe(30);
    expect(body.data).toHaveLength(10);
    expect(all).toHaveLength(30);
    const ids = all.map((engine) => engine.id);
    expect(ids).not.toContain(SEED.engines.gone);
    expect(ids).not.toContain(SEED.engines.other);
    for (const key of ['empty', 'single', 'onePage', 'onePagePlusOne', 'maxPage', 'big', 'drift'] as const) {
      expect(ids).toContain(SEED.engines[key]);
    }
  });

  it('orders engines newest first', () => {
    const times = all.map((engine) => engine.createTime as number);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(new Set(times).size).toBe(times.length);
  });

  it('pages engines by 1-based page number', async () => {
    const page = async (offset: number) =>
      (await call(sim, withQuery(api.engines(), { offset, limit: 7 }))).json().data.map((engine: any) => engine.id);
    expect(await page(0)).toEqual(all.slice(0, 7).map((engine) => engine.id));
    expect(await page(1)).toEqual(all.slice(0, 7).map((engine) => engine.id));
    expect(await page(2)).toEqual(all.slice(7, 14).map((engine) => engine.id));
    expect(await page(5)).toEqual(all.slice(28, 30).map((engine) => engine.id));
    expect(await page(6)).toEqual([]);
  });

  it('refuses a limit above the maximum', async () => {
    expectCseError(await call(sim, withQuery(api.engines(), { limit: 101 })), 400, 'SVCSTG.00500400');
  });

  it('carries every engine field on list items, the same as in the details', async () => {
    for (const item of all) {
      for (const field of ENGINE_FIELDS) expect(item).toHaveProperty(field);
      const details = await call(sim, api.engine(item.id));
      expect(details.status).toBe(200);
      expect(details.json()).toEqual(item);
    }
  });

  it('covers every documented engine status and at least one undocumented one', () => {
    const statuses = new Set(all.map((engine) => engine.status as string));
    for (const status of DOCUMENTED_STATUSES) expect(statuses).toContain(status);
    expect([...statuses].some((status) => !DOCUMENTED_STATUSES.includes(status))).toBe(true);
  });

  it('reports latestJobId as the newest job, and omits it for an engine without jobs', async () => {
    const single = all.find((engine) => engine.id === SEED.engines.single);
    const jobs = (await call(sim, api.jobs(SEED.engines.single))).json();
    expect(single.latestJobId).toBe(jobs.data[0].id);
    const big = all.find((engine) => engine.id === SEED.engines.big);
    expect(big.latestJobId).toBe((await call(sim, withQuery(api.jobs(SEED.engines.big), { limit: 1 }))).json().data[0].id);
    const empty = all.find((engine) => engine.id === SEED.engines.empty);
    expect(empty.latestJobId ?? null).toBeNull();
  });

  it('filters by type, case-insensitively', async () => {
    const types = async (type: string) => {
      const res = await call(sim, withQuery(api.engines(), { type, limit: 100 }));
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body.total).toBe(body.data.length);
      return body.data.map((engine: any) => engine.type as string);
    };
    expect(await types('ALL')).toHaveLength(30);
    expect(await types('all')).toHaveLength(30);
    const nacos = await types('Nacos');
    expect(nacos.length).toBeGreaterThan(0);
    expect(new Set(nacos)).toEqual(new Set(['NACOS']));
    expect(await types('NACOS')).toEqual(nacos);
    const gateways = await types('microgateway');
    expect(new Set(gateways)).toEqual(new Set(['MICROGATEWAY']));
    const cse = await types('CSE');
    expect(new Set(cse)).toEqual(new Set(['CSE', 'CSE_Share']));
    expect(cse.length + nacos.length + gateways.length).toBe(30);
  });

  it('refuses an unknown type filter', async () => {
    expectCseError(await call(sim, withQuery(api.engines(), { type: 'Kafka' })), 400, 'SVCSTG.00500400');
  });

  it('answers an unknown engine with HTTP 400 SVCSTG.00501116', async () => {
    expectCseError(await call(sim, api.engine('a0000000-0000-4000-8000-999999999999')), 400, 'SVCSTG.00501116');
  });

  it('answers the gone engine with HTTP 400 SVCSTG.00501125', async () => {
    expectCseError(await call(sim, api.engine(SEED.engines.gone)), 400, 'SVCSTG.00501125');
  });

  it('scopes engines to their project', async () => {
    expectCseError(await call(sim, api.engine(SEED.engines.other)), 400, 'SVCSTG.00501116');
    const res = await call(sim, api.engines(OTHER_PROJECT_ID), { token: OTHER_TOKEN });
    expect(res.json().total).toBe(2);
    const other = await call(sim, api.engine(SEED.engines.other, OTHER_PROJECT_ID), { token: OTHER_TOKEN });
    expect(other.status).toBe(200);
    expect(other.json().id).toBe(SEED.engines.other);
  });

  it('keeps the ids of the public API stable', () => {
    expect(DEMO_PROJECT_ID).toMatch(/^[0-9a-f]{32}$/);
    expect(OTHER_PROJECT_ID).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(Object.values(SEED.engines)).size).toBe(9);
  });
});
