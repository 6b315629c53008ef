import { SEED, startSimulator, type Simulator } from '../src';
import { admin, allJobs, api, call } from './support';
import { observeConsistent, taskStatuses } from './jobInvariants';

const { engines } = SEED;

describe('simulator job controls over /__sim/', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  it('POST /__sim/engines/{id}/jobs/start starts a job at the head', async () => {
    const res = await admin(sim, 'POST', `engines/${engines.onePage}/jobs/start`);
    expect(res.status).toBe(201);
    const job = res.json();
    expect(job).toMatchObject({ status: 'PreInit', engineId: engines.onePage, scheduling: 0, endTime: 0 });
    expect(job.tasks).toHaveLength(3);
    expect((await allJobs(sim, engines.onePage))[0]).toEqual(job);
    expect((await call(sim, api.engine(engines.onePage))).json().latestJobId).toBe(job.id);

    const custom = await admin(sim, 'POST', `engines/${engines.drift}/jobs/start`, { taskCount: 2, type: 'Upgrade', description: 'to 2.6.3' });
    expect(custom.status).toBe(201);
    expect(custom.json()).toMatchObject({ type: 'Upgrade', description: 'to 2.6.3' });
    expect(custom.json().tasks).toHaveLength(2);
    // Admin calls are not API calls: only the list and the engine details were recorded.
    expect(sim.callCount()).toBe(2);
  });

  it('answers a start on an unknown engine with 404 and bad options with 400', async () => {
    expect((await admin(sim, 'POST', 'engines/no-such-engine/jobs/start')).status).toBe(404);
    expect((await admin(sim, 'POST', `engines/${engines.gone}/jobs/start`)).status).toBe(404);
    for (const body of [{ taskCount: 0 }, { taskCount: 'three' }, { status: 'Executing' }, '{not json', [1], 'null']) {
      const res = await admin(sim, 'POST', `engines/${engines.single}/jobs/start`, body);
      expect(res.status).toBe(400);
      expect(res.json().error).toEqual(expect.any(String));
    }
    expect((await allJobs(sim, engines.single))).toHaveLength(1);
  });

  it('POST /__sim/engines/{id}/jobs/{jobId}/advance moves a job by steps or to a status', async () => {
    const { id } = sim.startJob(engines.drift, { taskCount: 3 });
    const path = `engines/${engines.drift}/jobs/${id}/advance`;
    const one = await admin(sim, 'POST', path);
    expect([one.status, one.json().status]).toEqual([200, 'Init']);
    const two = await admin(sim, 'POST', path, { steps: 2 });
    expect([two.status, taskStatuses(two.json())]).toEqual([200, ['Finished', 'Executing', 'Init']]);
    expect(await observeConsistent(sim, engines.drift, id)).toEqual(two.json());
    const done = await admin(sim, 'POST', path, { to: 'Finished' });
    expect([done.status, done.json().status]).toEqual([200, 'Finished']);
    const again = await admin(sim, 'POST', path, { to: 'Timeout' });
    expect([again.status, again.text]).toEqual([200, done.text]);
  });

  it('ends a job in Error over HTTP', async () => {
    const { id } = sim.startJob(engines.single);
    const res = await admin(sim, 'POST', `engines/${engines.single}/jobs/${id}/advance`, { to: 'Error' });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ status: 'Error', scheduling: 0, endTime: expect.any(Number) });
    expect(taskStatuses(await observeConsistent(sim, engines.single, id))).toEqual(['Error', 'PreInit', 'PreInit']);
  });

  it('answers advancing an unknown engine or job with 404, bad bodies with 400, impossible moves with 409', async () => {
    const { id } = sim.startJob(engines.single);
    const [otherEnginesJob] = (await call(sim, api.jobs(engines.onePage))).json().data;
    for (const path of [
      `engines/no-such-engine/jobs/${id}/advance`,
      `engines/${engines.gone}/jobs/${id}/advance`,
      `engines/${engines.single}/jobs/99999999/advance`,
      `engines/${engines.single}/jobs/abc/advance`,
      `engines/${engines.single}/jobs/${otherEnginesJob.id}/advance`,
    ]) {
      expect([path, (await admin(sim, 'POST', path)).status]).toEqual([path, 404]);
    }
    const path = `engines/${engines.single}/jobs/${id}/advance`;
    for (const body of [{ steps: 'two' }, { steps: 0 }, { steps: 1, to: 'Finished' }, { to: 'Done' }, { step: 1 }, '{']) {
      expect([body, (await admin(sim, 'POST', path, body)).status]).toEqual([body, 400]);
    }
    await admin(sim, 'POST', path, { to: 'Executing' });
    const back = await admin(sim, 'POST', path, { to: 'Init' });
    expect([back.status, back.json().error]).toEqual([409, expect.stringMatching(/cannot go to Init/)]);
    const suspended = (await allJobs(sim, engines.drift)).find((job) => job.status === 'Suspended');
    expect((await admin(sim, 'POST', `engines/${engines.drift}/jobs/${suspended.id}/advance`)).status).toBe(409);
    // Refusals changed nothing.
    expect((await call(sim, api.job(engines.single, id))).json().status).toBe('Executing');
  });

  it('PATCH /__sim/engines/{id}/jobs/{jobId} changes plain fields', async () => {
    const { id } = sim.startJob(engines.single);
    const res = await admin(sim, 'PATCH', `engines/${engines.single}/jobs/${id}`, { description: 'patched', context: 'plain text' });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ description: 'patched', context: 'plain text', status: 'PreInit' });
    expect(await observeConsistent(sim, engines.single, id)).toEqual(res.json());
  });

  it('answers a patch of an unknown job with 404 and of lifecycle or unknown fields with 400', async () => {
    const { id } = sim.startJob(engines.single);
    expect((await admin(sim, 'PATCH', `engines/${engines.single}/jobs/99999999`, { description: 'x' })).status).toBe(404);
    expect((await admin(sim, 'PATCH', `engines/no-such-engine/jobs/${id}`, { description: 'x' })).status).toBe(404);
    for (const body of [{ status: 'Finished' }, { endTime: 1 }, { colour: 'red' }, { description: 1 }, '[]', '{']) {
      expect([body, (await admin(sim, 'PATCH', `engines/${engines.single}/jobs/${id}`, body)).status]).toEqual([body, 400]);
    }
    expect((await call(sim, api.job(engines.single, id))).json().description).toBe('');
  });

  it('answers other methods and paths under the job routes with 404', async () => {
    const { id } = sim.startJob(engines.single);
    for (const [method, path] of [
      ['GET', `engines/${engines.single}/jobs/start`],
      ['POST', `engines/${engines.single}/jobs/${id}`],
      ['GET', `engines/${engines.single}/jobs/${id}/advance`],
      ['POST', `engines/${engines.single}/jobs/${id}/advance/more`],
      ['PATCH', `engines/${engines.single}/jobs`],
    ] as const) {
      expect([method, path, (await admin(sim, method, path)).status]).toEqual([method, path, 404]);
    }
  });
});

describe('simulator live mode over /__sim/live', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());
  afterEach(() => sim.stopLive());

  it('is off by default', async () => {
    expect(sim.live).toBeUndefined();
    expect((await admin(sim, 'GET', 'live')).json()).toEqual({ on: false });
  });

  it('PUT turns it on with options, GET reports it, DELETE turns it off', async () => {
    const on = await admin(sim, 'PUT', 'live', { tickMs: 60_000, initialJobs: 2, engineIds: [engines.empty, engines.single] });
    expect(on.status).toBe(200);
    expect(on.json()).toEqual({
      on: true,
      options: {
        tickMs: 60_000,
        newJobEveryTicks: 2,
        maxRunningPerEngine: 2,
        taskCount: 3,
        initialJobs: 2,
        ticksPerStep: 1,
        heartbeat: false,
        engineIds: [engines.empty, engines.single],
      },
      ticks: 0,
      started: 2,
      // The two started, plus the seed's running jobs (max-page, big, and two on drift).
      running: 6,
    });
    expect((await admin(sim, 'GET', 'live')).json()).toEqual(on.json());
    expect((await allJobs(sim, engines.empty)).map((job) => job.status)).toEqual(['PreInit']);
    expect((await admin(sim, 'DELETE', 'live')).status).toBe(204);
    expect((await admin(sim, 'GET', 'live')).json()).toEqual({ on: false });
    expect((await admin(sim, 'DELETE', 'live')).status).toBe(204);
  });

  it('refuses bad options with 400 and leaves the running mode as it was', async () => {
    sim.startLive({ tickMs: 60_000, initialJobs: 0 });
    const before = sim.live;
    for (const body of [{ tickMs: 0 }, { tickMs: 'fast' }, { colour: 1 }, { engineIds: ['nope'] }, { engineIds: [] }, { taskCount: 0 }, '[]']) {
      const res = await admin(sim, 'PUT', 'live', body);
      expect([body, res.status]).toEqual([body, 400]);
      expect(res.json().error).toMatch(/live|object/);
    }
    expect(sim.live).toEqual(before);
  });
});
