import { setTimeout as sleep } from 'node:timers/promises';
import { SEED } from '@cse-jobs-gateway/simulator';
import { errorCodes, startHarness, type Harness } from '../support/harness';

/**
 * A finished job's answer is kept for CACHE_TERMINAL_JOB_TTL_MS (10 minutes) per token. Cached
 * answers are served to a token only while the upstream itself answered it within
 * CACHE_AUTH_RECHECK_MS, so a token the upstream now refuses stops getting data from the caches
 * (the upstream's and the whole-response one) once that time has passed — and at once after any
 * 401 it is given. A 403 denies one resource, not the token: it ends nothing else.
 */

const ENGINE = SEED.engines.single;
const RECHECK_MS = 2000;
let h: Harness;
let jobId: string;
beforeAll(async () => {
  // Caches at their defaults; the rejection memory off so each step shows its own upstream call. The window
  // outlasts a few requests on a loaded host.
  h = await startHarness({ CACHE_AUTH_RECHECK_MS: String(RECHECK_MS), CSE_AUTH_REJECTION_TTL_MS: '0' });
});
afterAll(() => h.close());
beforeEach(() => {
  // Not a reset: a new job each time (ids move on), so no test sees another's cached answers.
  h.simulator.resetCalls();
  jobId = String(h.simulator.addJobs(ENGINE, 1, { status: 'Finished' })[0]!.id);
});

const whole = () => h.gql(`{ job(engineId: "${ENGINE}", id: "${jobId}") { id status } }`);
/** Another document over the same job: not the whole-response cache, the upstream one. */
const other = () => h.gql(`{ job(engineId: "${ENGINE}", id: "${jobId}") { status id endTime } }`);

it('serves a finished job from the caches only within CACHE_AUTH_RECHECK_MS of an upstream answer', async () => {
  expect((await whole()).body.data.job).toEqual({ id: jobId, status: 'FINISHED' });
  expect(h.simulator.callCount({ route: 'getJob' })).toBe(1);
  expect((await whole()).headers.age).toBeDefined();
  expect((await other()).body.errors).toBeUndefined();
  expect(h.simulator.callCount({ route: 'getJob' })).toBe(1);

  await sleep(RECHECK_MS + 50);
  // The upstream now refuses the token: neither cache may answer for it.
  const revoke = h.simulator.injectFault({ route: 'getJob', status: 401, dialect: 'apig', errorCode: 'APIG.0301' });
  expect(errorCodes(await whole())).toEqual(['UNAUTHENTICATED']);
  expect(errorCodes(await other())).toEqual(['UNAUTHENTICATED']);
  expect(h.simulator.callCount({ route: 'getJob' })).toBe(3);

  // Accepted again: one answer from the upstream vouches for the token, and the caches serve it.
  revoke();
  expect((await whole()).body.data.job).toEqual({ id: jobId, status: 'FINISHED' });
  expect((await other()).body.errors).toBeUndefined();
  expect(h.simulator.callCount({ route: 'getJob' })).toBe(4);
});

it('a 401 on any call ends the use of the cached answers at once', async () => {
  await whole();
  expect(h.simulator.callCount({ route: 'getJob' })).toBe(1);
  const refuse = h.simulator.injectFault({ route: 'listEngines', status: 401, dialect: 'apig', times: 1 });
  expect(errorCodes(await h.gql('{ engines(first: 1) { totalCount } }'))).toEqual(['UNAUTHENTICATED']);
  refuse();
  // Well within CACHE_AUTH_RECHECK_MS, yet both documents go to the upstream again.
  expect((await whole()).body.data.job.status).toBe('FINISHED');
  expect((await other()).body.errors).toBeUndefined();
  expect(h.simulator.callCount({ route: 'getJob' })).toBe(2);
});

it('a 403 denies its own resource only: the cached answers are still served, the denied one is asked for each time', async () => {
  await whole();
  expect(h.simulator.callCount({ route: 'getJob' })).toBe(1);
  const forbid = h.simulator.injectFault({ route: 'listEngines', status: 403, dialect: 'apig' });
  for (let i = 0; i < 3; i += 1) expect(errorCodes(await h.gql('{ engines(first: 1) { totalCount } }'))).toEqual(['FORBIDDEN']);
  forbid();
  expect(h.simulator.callCount({ route: 'listEngines' })).toBe(3);
  // Both caches still answer for the job: no call.
  expect((await whole()).headers.age).toBeDefined();
  expect((await other()).body.data.job.status).toBe('FINISHED');
  expect(h.simulator.callCount({ route: 'getJob' })).toBe(1);
});
