import {
  DEMO_PROJECT_ID,
  DEMO_TOKEN,
  OTHER_PROJECT_ID,
  OTHER_TOKEN,
  SECOND_TOKEN,
  SEED,
  startSimulator,
  type Simulator,
} from '../src';
import { api, call } from './support';

describe('simulator auth (answered by the API gateway in front of CSE)', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  it('rejects a missing token with 401 APIG.0301 and the request id in the body', async () => {
    const res = await call(sim, api.engines(), { token: null });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/json');
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(res.json()).toEqual({
      error_code: 'APIG.0301',
      error_msg: expect.stringMatching(/^Incorrect IAM authentication information: /),
      request_id: requestId,
    });
  });

  it('rejects an unknown token with 401 APIG.0301', async () => {
    const res = await call(sim, api.engines(), { token: 'not-a-known-token-123' });
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({
      error_code: 'APIG.0301',
      error_msg: expect.stringMatching(/^Incorrect IAM authentication information: /),
      request_id: res.headers.get('x-request-id'),
    });
  });

  it('rejects a token of another project with 403 APIG.0302', async () => {
    const res = await call(sim, api.engines(OTHER_PROJECT_ID), { token: DEMO_TOKEN });
    expect(res.status).toBe(403);
    expect(res.json()).toEqual({ error_code: 'APIG.0302', error_msg: expect.any(String), request_id: res.headers.get('x-request-id') });
  });

  it('accepts every default token for its own project only', async () => {
    expect((await call(sim, api.engines(), { token: DEMO_TOKEN })).status).toBe(200);
    expect((await call(sim, api.engines(), { token: SECOND_TOKEN })).status).toBe(200);
    expect((await call(sim, api.engines(), { token: OTHER_TOKEN })).status).toBe(403);
    const other = await call(sim, api.engines(OTHER_PROJECT_ID), { token: OTHER_TOKEN });
    expect(other.status).toBe(200);
    expect(other.json().data.map((engine: { id: string }) => engine.id)).toContain(SEED.engines.other);
  });

  it('checks the token before the route and before the engine', async () => {
    expect((await call(sim, '/no/such/path', { token: null })).status).toBe(401);
    expect((await call(sim, api.engine('missing-engine'), { token: null })).status).toBe(401);
  });

  it('checks the project after the route: unknown paths are 404 for any valid token', async () => {
    const res = await call(sim, '/v2/whatever/enginemgr/flavors');
    expect(res.status).toBe(404);
    expect(res.text).toBe('');
  });

  it('treats the token as case-sensitive', async () => {
    expect((await call(sim, api.engines(), { token: DEMO_TOKEN.toUpperCase() })).status).toBe(401);
  });
});

describe('simulator auth with configured tokens', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({
      tokens: {
        'expired-token-000001': { projects: [DEMO_PROJECT_ID], expired: true },
        'both-projects-token-01': { projects: [DEMO_PROJECT_ID, OTHER_PROJECT_ID] },
      },
    });
  });
  afterAll(() => sim.close());

  it('rejects an expired token with 401 APIGW.0307', async () => {
    const res = await call(sim, api.engines(), { token: 'expired-token-000001' });
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({ error_code: 'APIGW.0307', error_msg: expect.any(String), request_id: res.headers.get('x-request-id') });
  });

  it('replaces the default tokens', async () => {
    expect((await call(sim, api.engines(), { token: DEMO_TOKEN })).status).toBe(401);
  });

  it('lets one token reach several projects', async () => {
    expect((await call(sim, api.engines(), { token: 'both-projects-token-01' })).status).toBe(200);
    expect((await call(sim, api.engines(OTHER_PROJECT_ID), { token: 'both-projects-token-01' })).status).toBe(200);
  });
});
