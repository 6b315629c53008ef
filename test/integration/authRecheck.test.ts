import { setTimeout as sleep } from 'node:timers/promises';
import { SEED } from '../../src/simulator';
import { errorCodes, startHarness, type Harness } from '../support/harness';

/**
 * A finished job's answer is kept for CACHE_TERMINAL_JOB_TTL_MS (10 minutes) per token. Cached
 * answers are served to a token only while the upstream itself answered it within
 * CACHE_AUTH_RECHECK_MS, so a token the upstream now refuses stops getting data from the caches
 * (the upstream's and the whole-response one) once that time has passed — and at once after any
 * 401 or 403 it is given.
 */

const ENGINE = SEED.engines.single;
let h: Harness;
let jobId: string;
beforeAll(async () => {
  // Caches at their defaults; the rejection memory off so each step shows its own upstream call.
  h = await startHarness({ CACHE_AUTH_RECHECK_MS: '400', CSE_AUTH_REJECTION_TTL_MS: '0' });
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

  await sleep(450);
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

it.each([
  [401, 'apig', 'UNAUTHENTICATED'],
  [403, 'apig', 'FORBIDDEN'],
] as const)('a %s on any call ends the use of the cached answers at once', async (status, dialect, code) => {
  await whole();
  expect(h.simulator.callCount({ route: 'getJob' })).toBe(1);
  const refuse = h.simulator.injectFault({ route: 'listEngines', status, dialect, times: 1 });
  expect(errorCodes(await h.gql('{ engines(first: 1) { totalCount } }'))).toEqual([code]);
  refuse();
  // Well within CACHE_AUTH_RECHECK_MS, yet both documents go to the upstream again.
  expect((await whole()).body.data.job.status).toBe('FINISHED');
  expect(h.simulator.callCount({ route: 'getJob' })).toBe(2);
});

it('a 403 for one engine ends the use of what was cached before it, though the token is answered again elsewhere', async () => {
  const engine = `{ engine(id: "${ENGINE}") { id name } }`;
  expect((await h.gql(engine)).body.errors).toBeUndefined();
  expect(h.simulator.callCount({ route: 'getEngine', engineId: ENGINE })).toBe(1);
  // The upstream now refuses this engine (only): a call that reaches it sees the 403 …
  const forbid = h.simulator.injectFault({ route: 'getEngine', engineId: ENGINE, status: 403, dialect: 'apig' });
  h.simulator.injectFault({ route: 'getJob', engineId: ENGINE, status: 403, dialect: 'apig', times: 1 });
  expect(errorCodes(await h.gql(`{ job(engineId: "${ENGINE}", id: "${jobId}") { id } }`))).toEqual(['FORBIDDEN']);
  // … the token is answered again for another engine (vouched for again) …
  expect((await h.gql(`{ engine(id: "${SEED.engines.big}") { id } }`)).body.errors).toBeUndefined();
  // … and what was cached for the refused engine before the 403 is not served: the call goes up.
  expect(errorCodes(await h.gql(engine))).toEqual(['FORBIDDEN']);
  expect(h.simulator.callCount({ route: 'getEngine', engineId: ENGINE })).toBe(2);
  forbid();
});
