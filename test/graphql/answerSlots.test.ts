import { DEMO_TOKEN, SECOND_TOKEN } from '@cse-jobs-gateway/simulator';
import { startGatewayOn, type GatewayHarness } from '../support/harness';
import { collect, eventually, liveClient } from '../support/liveClient';
import { heldJob, startFakeUpstream, type FakeUpstream } from '../support/upstream';

/**
 * An operation takes a slot among the answers being made before its first upstream call: one that finds
 * none free waits without fetching anything, so what many operations at once hold is bounded by the slots,
 * not by how many arrive. With OPERATION_MAX_CONCURRENT at 1, the second operation's call reaches the
 * upstream only once the first is answered.
 */
const ENGINE = 'e-places';
const held = heldJob(ENGINE);
const JOB_3 = `/engines/${ENGINE}/jobs/3`;
const job = (id: number) => `{ job(engineId: "${ENGINE}", id: "${id}") { id status } }`;

let upstream: FakeUpstream;
let gateway: GatewayHarness;
beforeAll(async () => {
  upstream = await startFakeUpstream((path) =>
    path.includes(JOB_3) ? JSON.stringify({ id: 3, engineId: ENGINE, status: 'Finished', tasks: [] }) : held.answer(path),
  );
  gateway = await startGatewayOn(upstream, { OPERATION_MAX_CONCURRENT: '1', REQUEST_TIMEOUT_MS: '10000' });
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

it("waits for a slot before its upstream call while another caller's operation holds the only one", async () => {
  const first = gateway.gql(job(2));
  await eventually(() => held.release !== undefined, 'the first operation asks for its job', 5000);
  const second = gateway.gql(job(3), undefined, { 'x-auth-token': SECOND_TOKEN });
  // Long enough for the second request to be read, parsed and run up to its call.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(upstream.calls.filter((path) => path.includes(JOB_3))).toEqual([]);
  held.release!();
  expect((await first).body).toEqual({ data: { job: { id: '2', status: 'FINISHED' } } });
  expect((await second).body).toEqual({ data: { job: { id: '3', status: 'FINISHED' } } });
  expect(upstream.calls.filter((path) => path.includes(JOB_3))).toHaveLength(1);
});

it("waits for a slot before a subscription's poll reads the upstream, as an operation does", async () => {
  // A gateway of its own: nothing of the job kept from the test before.
  const own = await startGatewayOn(upstream, { OPERATION_MAX_CONCURRENT: '1', REQUEST_TIMEOUT_MS: '10000' });
  held.release = undefined;
  const first = own.gql(job(2));
  await eventually(() => held.release !== undefined, 'the operation asks for its job', 5000);
  const release = held.release!;
  const before = upstream.calls.filter((path) => path.includes(JOB_3)).length;
  const client = liveClient(own.gateway.url);
  try {
    const sub = collect(client, `subscription { jobUpdated(engineId: "${ENGINE}", id: "3") { id status } }`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(upstream.calls.filter((path) => path.includes(JOB_3))).toHaveLength(before);
    release();
    expect((await first).body.errors).toBeUndefined();
    await eventually(() => sub.results.length > 0, 'the first state', 5000);
    expect(sub.results[0]).toEqual({ data: { jobUpdated: { id: '3', status: 'FINISHED' } } });
  } finally {
    await client.dispose();
    await own.close();
  }
});

/**
 * An operation's calls all pass their first look for room at once, before any answer counts: each looks
 * again when it starts (CSE_REQUEST_CONCURRENCY at a time). With 256 KiB of OPERATION_MAX_UPSTREAM_BYTES
 * (128 KiB for small answers together), another caller's answer holding 100 KB, the first in line, and this
 * operation's first call out (of an engine nobody asked about: a slot's bytes expected, so it goes on
 * holding nothing), its second call waits until the other is made.
 */
describe('each call of an operation, when it starts', () => {
  const [ENGINE_B, ENGINE_MINE] = ['e-room', 'e-room-2'];
  const big = (id: number, engine = ENGINE_B) => JSON.stringify({ id, engineId: engine, status: 'Finished', description: 'd'.repeat(100 * 1024), tasks: [] });
  const path = (id: number, engine = ENGINE_B) => `/engines/${engine}/jobs/${id}`;
  let release: (() => void) | undefined;
  let fake: FakeUpstream;
  let roomGateway: GatewayHarness;
  beforeAll(async () => {
    fake = await startFakeUpstream((requested) => {
      if (requested.includes(path(8))) return new Promise((resolve) => (release = () => resolve(big(8))));
      if (requested.includes(path(7))) return big(7);
      const id = [1, 2].find((n) => requested.includes(path(n, ENGINE_MINE)));
      return id === undefined ? undefined : big(id, ENGINE_MINE);
    });
    roomGateway = await startGatewayOn(fake, { OPERATION_MAX_UPSTREAM_BYTES: String(256 * 1024), CSE_REQUEST_CONCURRENCY: '1', REQUEST_TIMEOUT_MS: '10000' });
  });
  afterAll(async () => {
    await roomGateway.close();
    await fake.close();
  });

  it('waits for room before it goes out, not only before the first', async () => {
    const other = roomGateway.gql(`{ a: job(engineId: "${ENGINE_B}", id: "7") { description } b: job(engineId: "${ENGINE_B}", id: "8") { id } }`, undefined, { 'x-auth-token': SECOND_TOKEN });
    await eventually(() => release !== undefined, "the other operation's second call", 5000);
    const mine = roomGateway.gql(`{ a: job(engineId: "${ENGINE_MINE}", id: "1") { id } b: job(engineId: "${ENGINE_MINE}", id: "2") { id } }`);
    await eventually(() => fake.calls.some((called) => called.includes(path(1, ENGINE_MINE))), 'its first call', 5000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fake.calls.filter((called) => called.includes(path(2, ENGINE_MINE)))).toEqual([]);
    release!();
    expect((await other).body.errors).toBeUndefined();
    expect((await mine).body).toEqual({ data: { a: { id: '1' }, b: { id: '2' } } });
  });
});

/**
 * An operation's calls that start together each look for room before any of their answers counts: each now
 * holds room for its answer while on its way, as much as answers of its kind (route, project, engine) were
 * learned to weigh; a call expected to bring more than a small answer makes its operation large from its
 * first byte, so it waits for the large answers' room before it goes out.
 */
describe('calls on their way', () => {
  const ENGINE_C = 'e-way';
  const ENGINE_D = 'e-warm';
  /** Engines nobody asked about before whose jobs weigh 400 KB, announced or not (chunked). */
  const [ENGINE_COLD, ENGINE_CHUNKED] = ['e-cold', 'e-chunked'];
  const path = (engine: string, id: number) => `/engines/${engine}/jobs/${id}`;
  const job = (engine: string, id: number, description = '') => JSON.stringify({ id, engineId: engine, status: 'Finished', description, tasks: [] });
  const aliases = (engine: string, ...ids: number[]) => `{ ${ids.map((id) => `j${id}: job(engineId: "${engine}", id: "${id}") { id }`).join(' ')} }`;
  /** Answers held until released, by job id; the others answered at once (`LARGE` with 600 KB). */
  const releases = new Map<number, () => void>();
  const HELD = [22];
  const LARGE = 21;
  const calledFor = (id: number) => fake.calls.filter((called) => called.includes(path(ENGINE_C, id))).length;
  let fake: FakeUpstream;
  beforeAll(async () => {
    fake = await startFakeUpstream((requested) => {
      const [, engine, id] = /\/engines\/([^/]+)\/jobs\/(\d+)/.exec(requested) ?? [];
      if (id !== undefined && (engine === ENGINE_COLD || engine === ENGINE_CHUNKED)) {
        return { status: 200, text: job(engine, Number(id), 'd'.repeat(400 * 1024)), chunked: engine === ENGINE_CHUNKED };
      }
      if ((engine !== ENGINE_C && engine !== ENGINE_D) || id === undefined) return undefined;
      const n = Number(id);
      if (engine === ENGINE_C && HELD.includes(n)) return new Promise((resolve) => releases.set(n, () => resolve(job(engine, n))));
      return job(engine, n, engine === ENGINE_C && n === LARGE ? 'd'.repeat(600 * 1024) : '');
    });
  });
  afterAll(() => fake.close());
  /** A gateway with `env` that has seen both tokens accepted (on another engine): a token it does not know
   * yet has one call at a time. */
  const knowing = async (env: Record<string, string>) => {
    const gateway = await startGatewayOn(fake, { ...env, REQUEST_TIMEOUT_MS: '10000' });
    for (const token of [DEMO_TOKEN, SECOND_TOKEN]) expect((await gateway.gql(aliases(ENGINE_D, 1), undefined, { 'x-auth-token': token })).body.errors).toBeUndefined();
    return gateway;
  };

  it("wait for the large answers' room before they go out when answers of their kind were learned to be large", async () => {
    // 512 KiB for the large answers together: the other operation's 600 KB answer takes it.
    const gateway = await knowing({ OPERATION_MAX_UPSTREAM_BYTES: String(1024 * 1024) });
    try {
      const other = gateway.gql(aliases(ENGINE_C, LARGE, 22), undefined, { 'x-auth-token': SECOND_TOKEN });
      await eventually(() => releases.has(22) && calledFor(LARGE) === 1, "the other operation's calls", 5000);
      // Its large answer counted, and learned.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const mine = gateway.gql(aliases(ENGINE_C, 23, 24));
      // Another engine's small answers go on meanwhile.
      expect((await gateway.gql(aliases(ENGINE_D, 2, 3))).body.errors).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect([23, 24].map(calledFor)).toEqual([0, 0]);
      releases.get(22)!();
      expect((await other).body.errors).toBeUndefined();
      expect((await mine).body).toEqual({ data: { j23: { id: '23' }, j24: { id: '24' } } });
    } finally {
      await gateway.close();
      releases.clear();
    }
  });

  it('read an answer of a kind nobody has learned only within the room held for it: past it, it is asked for again once there is room', async () => {
    const gateway = await knowing({ OPERATION_MAX_UPSTREAM_BYTES: String(1024 * 1024) });
    const calls = (engine: string) => fake.calls.filter((called) => called.includes(path(engine, 31))).length;
    try {
      const before = calledFor(LARGE);
      const other = gateway.gql(aliases(ENGINE_C, LARGE, 22), undefined, { 'x-auth-token': SECOND_TOKEN });
      await eventually(() => releases.has(22) && calledFor(LARGE) === before + 1, "the other operation's calls", 5000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const query = `{ a: job(engineId: "${ENGINE_COLD}", id: "31") { id } b: job(engineId: "${ENGINE_CHUNKED}", id: "31") { id } }`;
      const mine = gateway.gql(query);
      let answered = false;
      void mine.then(() => (answered = true));
      // Each went out holding room for a small answer: cut off once the answer announced, or brought, more.
      await eventually(() => calls(ENGINE_COLD) === 1 && calls(ENGINE_CHUNKED) === 1, 'its calls', 5000);
      expect((await gateway.gql(aliases(ENGINE_D, 4, 5))).body.errors).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect([answered, calls(ENGINE_COLD), calls(ENGINE_CHUNKED)]).toEqual([false, 1, 1]);
      releases.get(22)!();
      expect((await other).body.errors).toBeUndefined();
      expect((await mine).body).toEqual({ data: { a: { id: '31' }, b: { id: '31' } } });
      expect([calls(ENGINE_COLD), calls(ENGINE_CHUNKED)]).toEqual([2, 2]);
    } finally {
      await gateway.close();
      releases.clear();
    }
  });
});

/**
 * An operation holds room for an answer only up to the upstream bytes it may still use
 * (OPERATION_MAX_UPSTREAM_BYTES): an answer announcing more is refused at its headers, unread, as the answer
 * read past the bound would fail.
 */
describe('an answer past what its operation may still use', () => {
  const ENGINE = 'e-past';
  let fake: FakeUpstream;
  beforeAll(async () => {
    // A job whose answer announces 200 KB and never sends more than its first chunk.
    fake = await startFakeUpstream((requested) => {
      if (!requested.includes(`/engines/${ENGINE}/jobs/`)) return undefined;
      const text = JSON.stringify({ id: 1, engineId: ENGINE, status: 'Finished', description: 'd'.repeat(200 * 1024), tasks: [] });
      return { status: 200, text, stalls: true };
    });
  });
  afterAll(() => fake.close());

  it('is refused at its headers: the field fails RESPONSE_TOO_LARGE at once, not at the time-out waiting for the rest', async () => {
    const gateway = await startGatewayOn(fake, { OPERATION_MAX_UPSTREAM_BYTES: String(64 * 1024), REQUEST_TIMEOUT_MS: '5000' });
    try {
      const started = performance.now();
      const { body } = await gateway.gql(`{ job(engineId: "${ENGINE}", id: "1") { id } }`);
      expect(body.errors).toEqual([expect.objectContaining({ path: ['job'], extensions: { code: 'RESPONSE_TOO_LARGE', reason: 'UPSTREAM_BYTES', limit: 64 * 1024 } })]);
      expect(performance.now() - started).toBeLessThan(4000);
      expect(fake.calls.filter((called) => called.includes(ENGINE))).toHaveLength(1);
    } finally {
      await gateway.close();
    }
  });

  it("makes no further call: the operation's other aliases, waiting for the first answer of their kind, do not go out", async () => {
    const gateway = await startGatewayOn(fake, { OPERATION_MAX_UPSTREAM_BYTES: String(64 * 1024), REQUEST_TIMEOUT_MS: '5000' });
    try {
      const before = fake.calls.filter((called) => called.includes(ENGINE)).length;
      const query = `{ ${[1, 2, 3, 4, 5].map((id) => `j${id}: job(engineId: "${ENGINE}", id: "${id}") { id }`).join(' ')} }`;
      const { body } = await gateway.gql(query);
      expect(body.data).toEqual({ j1: null, j2: null, j3: null, j4: null, j5: null });
      expect(new Set(body.errors!.map((error) => error.extensions?.code))).toEqual(new Set(['RESPONSE_TOO_LARGE']));
      expect(fake.calls.filter((called) => called.includes(ENGINE)).length - before).toBe(1);
    } finally {
      await gateway.close();
    }
  });
});

/**
 * A single flight is read within the room of the operation that began it, but not within that
 * operation's own bytes left: another operation joined it, and each counts the answer against its own.
 */
describe('a single flight whose first caller has few bytes left', () => {
  const ENGINE = 'e-flight';
  const releases = new Map<number, () => void>();
  let fake: FakeUpstream;
  beforeAll(async () => {
    // Job 1 weighs 40 KB; job 2, 30 KB, and job 3, 100 KB, are held until released, and job 3 then stalls
    // after its first chunk.
    fake = await startFakeUpstream((requested) => {
      const id = Number(/\/engines\/e-flight\/jobs\/(\d+)/.exec(requested)?.[1]);
      if (!Number.isInteger(id)) return undefined;
      const text = JSON.stringify({ id, engineId: ENGINE, status: 'Finished', description: 'd'.repeat(({ 1: 40, 2: 30, 3: 100 }[id] ?? 1) * 1024), tasks: [] });
      if (id === 1) return text;
      return new Promise((resolve) => releases.set(id, () => resolve({ status: 200, text, stalls: id === 3 })));
    });
  });
  afterAll(() => fake.close());

  it('is read once: the joiner gets the answer, the first caller fails its own bytes', async () => {
    const gateway = await startGatewayOn(fake, { OPERATION_MAX_UPSTREAM_BYTES: String(64 * 1024), REQUEST_TIMEOUT_MS: '10000' });
    const calledFor = (id: number) => fake.calls.filter((called) => called.includes(`/engines/${ENGINE}/jobs/${id}`)).length;
    try {
      const first = gateway.gql(`{ a: job(engineId: "${ENGINE}", id: "1") { id } b: job(engineId: "${ENGINE}", id: "2") { id } }`);
      await eventually(() => releases.has(2), "the first operation's call for job 2", 5000);
      const joiner = gateway.gql(`{ job(engineId: "${ENGINE}", id: "2") { id } }`);
      // Long enough for the second request to be read, parsed and joined to the flight.
      await new Promise((resolve) => setTimeout(resolve, 300));
      releases.get(2)!();
      expect((await joiner).body).toEqual({ data: { job: { id: '2' } } });
      const { body } = await first;
      expect(body.data).toEqual({ a: { id: '1' }, b: null });
      expect(body.errors).toEqual([expect.objectContaining({ path: ['b'], extensions: expect.objectContaining({ code: 'RESPONSE_TOO_LARGE', reason: 'UPSTREAM_BYTES' }) })]);
      expect(calledFor(2)).toBe(1);
    } finally {
      await gateway.close();
      releases.clear();
    }
  });

  it('is cut at its headers again once the joiner left: the first caller reads nothing past its own bytes for nobody', async () => {
    const gateway = await startGatewayOn(fake, { OPERATION_MAX_UPSTREAM_BYTES: String(64 * 1024), REQUEST_TIMEOUT_MS: '5000' });
    try {
      const first = gateway.gql(`{ a: job(engineId: "${ENGINE}", id: "1") { id } b: job(engineId: "${ENGINE}", id: "3") { id } }`);
      await eventually(() => releases.has(3), "the first operation's call for job 3", 5000);
      const leaving = new AbortController();
      const joiner = fetch(gateway.gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_TOKEN },
        body: JSON.stringify({ query: `{ job(engineId: "${ENGINE}", id: "3") { id } }` }),
        signal: leaving.signal,
      }).catch(() => undefined);
      // Joined, then gone.
      await new Promise((resolve) => setTimeout(resolve, 300));
      leaving.abort();
      await joiner;
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = performance.now();
      releases.get(3)!();
      const { body } = await first;
      // Its answer stalls after the first chunk: read on, it would end at the time-out.
      expect(body.errors).toEqual([expect.objectContaining({ path: ['b'], extensions: expect.objectContaining({ code: 'RESPONSE_TOO_LARGE', reason: 'UPSTREAM_BYTES' }) })]);
      expect(performance.now() - started).toBeLessThan(3000);
    } finally {
      await gateway.close();
      releases.clear();
    }
  });
});
