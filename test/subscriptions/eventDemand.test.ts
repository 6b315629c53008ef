import { loadConfig } from '../../src/config/loadConfig';
import { GatewayError } from '../../src/errors/GatewayError';
import type { ConflatingStream } from '../../src/subscriptions/conflatingStream';
import { Watches, type EngineWatch } from '../../src/subscriptions/EngineWatch';
import type { CseHttpClient } from '../../src/upstream/CseHttpClient';
import type { Credentials } from '../../src/upstream/credentials';

/**
 * An event's calls refused by SUBSCRIPTION_MAX_CALLS_PER_POLL do not add to its watch's demand at
 * the next allocation: only granted ones do, so a flood of refused asks cannot take the poll budget
 * of the scope's other engines.
 */

const MAX_CALLS = 10;

it.each([0, 5, 10, 30])('after %i asks, the watch demands its granted calls and one poll', async (asks) => {
  // An interval of an hour: no allocation but the first within the test.
  const env = { SUBSCRIPTION_POLL_MS: '3600000', SUBSCRIPTION_MAX_BACKOFF_MS: '3600000', SUBSCRIPTION_MAX_CALLS_PER_POLL: String(MAX_CALLS) };
  const http = { cacheGenerationFor: () => 1, get: () => new Promise(() => {}) } as unknown as CseHttpClient;
  const watches = new Watches(loadConfig(env), http, { poll() {}, pollers() {}, conflated() {} });
  const stream = watches.jobUpdates({ token: 't', projectId: 'p' } as unknown as Credentials, 'e', '1');
  const watch = (stream as ConflatingStream<unknown>).watch as EngineWatch;
  let granted = 0;
  const codes: string[] = [];
  for (let n = 0; n < asks; n += 1) {
    try {
      watch.chargeCall();
      granted += 1;
    } catch (error) {
      codes.push((error as GatewayError).code);
    }
  }
  expect(granted).toBe(Math.min(asks, MAX_CALLS));
  expect(codes).toEqual(Array.from({ length: asks - granted }, () => 'QUERY_TOO_COMPLEX'));
  expect(watch.demand()).toBe(granted + 1);
  await stream.return(undefined);
  watches.close();
});
