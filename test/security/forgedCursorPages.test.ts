import { SEED } from '@cse-jobs-gateway/simulator';
import { MAX_CURSOR_POSITION } from '../../src/pagination/cursor';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';

/**
 * The upstream counts in 32 bits: no page asked for around a forged cursor, however far, may begin or
 * end past 2^31 − 1 (a cursor at 2^31 − 1 once asked for page 2^31). Cursors past MAX_CURSOR_POSITION are
 * refused before any page call.
 */

const ENGINE = SEED.engines.big;
const INT32 = 2 ** 31 - 1;

let h: Harness;
let real: string;
beforeAll(async () => {
  h = await startHarness(CACHES_OFF);
  const page = await h.gql(`{ engine(id: "${ENGINE}") { jobs(first: 1) { edges { cursor } } } }`);
  real = page.body.data.engine.jobs.edges[0].cursor;
});
afterAll(() => h.close());
beforeEach(() => h.simulator.reset());

/** The real cursor's list and item, at another position. */
const at = (position: number) => {
  const [version, key, , id] = Buffer.from(real, 'base64url').toString('utf8').split('|');
  return Buffer.from(`${version}|${key}|${position}|${id}`, 'utf8').toString('base64url');
};
const jobs = (args: string) => h.gql(`{ engine(id: "${ENGINE}") { jobs(${args}) { totalCount edges { cursor } } } }`);

it.each(['first: 1, after: $c', 'first: 0, after: $c', 'first: 100, after: $c', 'last: 1, before: $c', 'last: 100, before: $c', 'first: 5, before: $c'])(
  'asks for no page past 2^31 − 1 around a cursor at the last position allowed: %s',
  async (args) => {
    const response = await jobs(args.replace('$c', JSON.stringify(at(MAX_CURSOR_POSITION))));
    expect(response.body.errors).toBeUndefined();
    const pages = h.simulator.calls.filter((call) => call.route === 'listJobs');
    for (const call of pages) {
      const [offset, limit] = [Number(call.query.offset), Number(call.query.limit)];
      expect(offset).toBeLessThanOrEqual(INT32);
      // The page's end, as the upstream computes it from the 1-based page number and its size.
      expect(offset * limit).toBeLessThanOrEqual(INT32);
    }
  },
);

it('refuses a cursor past it, before any page call', async () => {
  const response = await jobs(`first: 1, after: ${JSON.stringify(at(MAX_CURSOR_POSITION + 1))}`);
  expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
  expect(h.simulator.calls.filter((call) => call.route === 'listJobs')).toHaveLength(0);
});
