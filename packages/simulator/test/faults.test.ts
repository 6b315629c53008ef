import { SEED, startSimulator, type Fault, type Simulator } from '../src';
import { api, call, withQuery } from './support';

const { engines } = SEED;

describe('simulator faults', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  afterEach(() => sim.clearFaults());

  it('delays an answer by latencyMs, then answers normally', async () => {
    sim.injectFault({ route: 'listEngines', latencyMs: 150 });
    const started = performance.now();
    const res = await call(sim, api.engines());
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(res.status).toBe(200);
    expect(res.json().total).toBe(30);
  });

  it('combines latency with a status', async () => {
    sim.injectFault({ route: 'getEngine', latencyMs: 80, status: 503 });
    const started = performance.now();
    const res = await call(sim, api.engine(engines.single));
    expect(performance.now() - started).toBeGreaterThanOrEqual(70);
    expect(res.status).toBe(503);
  });

  describe('error bodies in every dialect', () => {
    const code = 'SVCSTG.00300500';
    const text = expect.any(String);
    const json = (expected: object) => (body: string) => expect(JSON.parse(body)).toEqual(expected);
    const cases: Array<[Fault['dialect'], (body: string, requestId: string) => void, string | null]> = [
      ['cse', json({ error_code: code, error_msg: text, detail: text }), 'application/json'],
      ['camel', json({ errorCode: code, errorMessage: text, detail: text }), 'application/json'],
      ['snake_message', json({ error_code: code, error_message: text }), 'application/json'],
      ['code_message', json({ code, message: text }), 'application/json'],
      ['apig', (body, requestId) => json({ error_code: code, error_msg: text, request_id: requestId })(body), 'application/json'],
      ['empty', (body) => expect(body).toBe(''), null],
      ['html', (body) => expect(body).toMatch(/^<html>[\s\S]*500 Internal Server Error[\s\S]*<\/html>\s*$/), 'text/html'],
    ];
    it.each(cases)('%s', async (dialect, check, contentType) => {
      sim.injectFault({ route: 'listJobs', status: 500, dialect });
      const res = await call(sim, api.jobs(engines.single));
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toBe(contentType);
      const requestId = res.headers.get('x-request-id');
      expect(requestId).toBeTruthy();
      check(res.text, requestId ?? '');
    });
  });

  it('uses the given error code, and a sensible default per status', async () => {
    sim.injectFault({ route: 'getJob', status: 400, dialect: 'camel', errorCode: 'SVCSTG.00501153' });
    expect((await call(sim, api.job(engines.single, 1))).json().errorCode).toBe('SVCSTG.00501153');
    sim.clearFaults();
    const defaults: Array<[number, Fault['dialect'], string]> = [
      [401, 'apig', 'APIG.0301'],
      [403, 'apig', 'APIG.0302'],
      [429, 'apig', 'APIG.0308'],
      [503, 'cse', 'SVCSTG.00300501'],
      [500, 'cse', 'SVCSTG.00300500'],
    ];
    for (const [status, dialect, code] of defaults) {
      const remove = sim.injectFault({ route: 'listEngines', status, dialect });
      const res = await call(sim, api.engines());
      expect(res.status).toBe(status);
      expect(res.json().error_code).toBe(code);
      remove();
    }
  });

  it('defaults to the CSE dialect when only a status is given', async () => {
    sim.injectFault({ route: 'listEngines', status: 502 });
    const res = await call(sim, api.engines());
    expect(res.status).toBe(502);
    expect(Object.keys(res.json()).sort()).toEqual(['detail', 'error_code', 'error_msg']);
  });

  it('adds extra response headers', async () => {
    sim.injectFault({ route: 'listEngines', status: 429, dialect: 'apig', headers: { 'Retry-After': '1' } });
    const res = await call(sim, api.engines());
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('sends a raw or JSON body as given', async () => {
    const removeRaw = sim.injectFault({ route: 'listEngines', status: 200, body: '{"total":1,"data":"oops"}' });
    const raw = await call(sim, api.engines());
    expect(raw.status).toBe(200);
    expect(raw.text).toBe('{"total":1,"data":"oops"}');
    removeRaw();
    sim.injectFault({ route: 'listEngines', status: 400, body: { error_code: 'X.1', error_msg: 'custom' } });
    const json = await call(sim, api.engines());
    expect(json.status).toBe(400);
    expect(json.json()).toEqual({ error_code: 'X.1', error_msg: 'custom' });
  });

  it('answers 200 with a truncated JSON body when malformed', async () => {
    sim.injectFault({ route: 'listJobs', malformed: true });
    const res = await call(sim, api.jobs(engines.onePage));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.text.startsWith('{"total":20')).toBe(true);
    expect(() => JSON.parse(res.text)).toThrow();
  });

  it('destroys the socket without answering', async () => {
    sim.injectFault({ route: 'getEngine', destroy: true });
    await expect(call(sim, api.engine(engines.single))).rejects.toThrow();
    expect(sim.calls.at(-1)).toMatchObject({ route: 'getEngine', status: 0 });
    sim.clearFaults();
    expect((await call(sim, api.engine(engines.single))).status).toBe(200);
  });

  it('applies only `times` times', async () => {
    sim.injectFault({ route: 'listEngines', status: 503, times: 2 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(sim, api.engines())).status);
    expect(statuses).toEqual([503, 503, 200, 200]);
  });

  it('matches on route, engine and job together', async () => {
    sim.injectFault({ route: 'getJob', engineId: engines.onePage, jobId: '12345', status: 500 });
    expect((await call(sim, api.job(engines.onePage, 12345))).status).toBe(500);
    expect((await call(sim, api.job(engines.onePage, 12346))).status).toBe(400);
    expect((await call(sim, api.job(engines.single, 12345))).status).toBe(400);
    expect((await call(sim, api.jobs(engines.onePage))).status).toBe(200);
  });

  it('lets the first matching fault win, and counts only matching calls', async () => {
    sim.injectFault({ engineId: engines.big, status: 503, times: 1 });
    sim.injectFault({ engineId: engines.big, status: 500 });
    expect((await call(sim, api.engine(engines.single))).status).toBe(200);
    expect((await call(sim, api.engine(engines.big))).status).toBe(503);
    expect((await call(sim, api.jobs(engines.big))).status).toBe(500);
  });

  it('answers before auth: a fault applies even without a token', async () => {
    sim.injectFault({ route: 'listEngines', status: 503, times: 1 });
    expect((await call(sim, api.engines(), { token: null })).status).toBe(503);
    expect((await call(sim, api.engines(), { token: null })).status).toBe(401);
  });

  it('removes one fault with its remover, all with clearFaults', async () => {
    const remove = sim.injectFault({ route: 'listEngines', status: 500 });
    sim.injectFault({ route: 'getEngine', status: 500 });
    remove();
    expect((await call(sim, api.engines())).status).toBe(200);
    expect((await call(sim, api.engine(engines.single))).status).toBe(500);
    sim.clearFaults();
    expect((await call(sim, api.engine(engines.single))).status).toBe(200);
  });

  it('refuses invalid faults', () => {
    expect(() => sim.injectFault({ route: 'listThings' } as unknown as Fault)).toThrow(TypeError);
    expect(() => sim.injectFault({ times: 0, status: 500 })).toThrow(TypeError);
    expect(() => sim.injectFault({ status: 42 })).toThrow(TypeError);
    expect(() => sim.injectFault({ dialect: 'xml' } as unknown as Fault)).toThrow(TypeError);
    expect(() => sim.injectFault({ statuss: 500 } as unknown as Fault)).toThrow(/Unknown fault field "statuss"/);
  });

  it('can break the paging of one page only', async () => {
    sim.injectFault({ route: 'listJobs', engineId: engines.big, status: 503, times: 1 });
    expect((await call(sim, withQuery(api.jobs(engines.big), { offset: 2 }))).status).toBe(503);
    expect((await call(sim, withQuery(api.jobs(engines.big), { offset: 2 }))).status).toBe(200);
  });
});
