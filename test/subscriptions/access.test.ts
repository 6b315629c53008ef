import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_PROJECT_ID, DEMO_TOKEN, OTHER_TOKEN, SECOND_TOKEN, SEED } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { closed, collect, eventually, liveClient, protocolSocket, rawSocket, sleep, upgradeStatus, type ProtocolSocket } from '../support/liveClient';

/**
 * Who may open a socket and what a socket may ask: identity from connection_init (or the upgrade's
 * headers), browser origins, the protocol's own limits and every limit HTTP operations meet.
 */

const engineId = SEED.engines.onePage;
const JOB = `subscription Watch($engineId: ID!, $id: ID!) { jobUpdated(engineId: $engineId, id: $id) { id status } }`;

/** Sends connection_init with `payload` on a raw socket and resolves with the first message or the close. */
async function init(socket: ReturnType<typeof rawSocket>, payload: unknown): Promise<{ message?: any; close?: { code: number; reason: string } }> {
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload }));
  return new Promise((resolve) => {
    socket.once('message', (data) => resolve({ message: JSON.parse(String(data)) }));
    socket.once('close', (code, reason) => resolve({ close: { code, reason: reason.toString() } }));
  });
}

describe('identity', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ SUBSCRIPTION_POLL_MS: '200', LOG_LEVEL: 'info' });
  });
  afterAll(() => h.close());
  beforeEach(() => h.simulator.reset());

  it.each([
    ['no token', {}, 4401, /token is required/],
    ['a malformed token', { 'X-Auth-Token': 'short' }, 4401, /malformed/],
    ['Authorization without Bearer', { Authorization: 'Basic abc' }, 4401, /Bearer/],
    ['a malformed project header', { 'X-Auth-Token': DEMO_TOKEN, 'X-Project-Id': 'not a project!' }, 4400, /X-Project-Id/],
  ])('%s: the socket is closed (%s) before any ack and any upstream call', async (_name, payload, code, reason) => {
    const socket = rawSocket(h.gateway.url);
    const outcome = await init(socket, payload);
    expect(outcome.message).toBeUndefined();
    expect(outcome.close?.code).toBe(code);
    expect(outcome.close?.reason).toMatch(reason);
    expect(h.simulator.callCount()).toBe(0);
  });

  it.each([
    ['X-Auth-Token in connection_init, any case', { 'x-AUTH-token': DEMO_TOKEN }, {}],
    ['Authorization: Bearer in connection_init', { authorization: `Bearer ${DEMO_TOKEN}` }, {}],
    ['headers nested under "headers"', { headers: { 'X-Auth-Token': DEMO_TOKEN, 'X-Project-Id': DEMO_PROJECT_ID } }, {}],
    ["the upgrade request's own headers (a server-side client)", {}, { 'x-auth-token': DEMO_TOKEN }],
  ])('accepts %s', async (_name, payload, headers) => {
    const socket = rawSocket(h.gateway.url, headers);
    const outcome = await init(socket, payload);
    expect(outcome.message).toEqual({ type: 'connection_ack' });
    socket.close();
  });

  it("forwards the caller's own token to the upstream, and logs neither start nor end with it", async () => {
    const job = h.simulator.startJob(engineId);
    const client = liveClient(h.gateway.url);
    const sub = collect(client, JOB, { engineId, id: String(job.id) });
    await sub.next(1);
    expect(h.simulator.calls.every((call) => call.headers['x-auth-token'] === DEMO_TOKEN)).toBe(true);
    sub.stop();
    await client.dispose();
    await sleep(50);
    const lines = h.logs.map((line) => JSON.parse(line));
    const started = lines.find((line) => line.msg === 'subscription started');
    const ended = lines.find((line) => line.msg === 'subscription ended');
    expect(started).toMatchObject({ field: 'jobUpdated', operationName: 'Watch' });
    expect(ended).toMatchObject({ field: 'jobUpdated', operationName: 'Watch', events: 1 });
    expect(typeof ended.durationMs).toBe('number');
    expect(h.logs.join('')).not.toContain(DEMO_TOKEN);
  });

  it('a token the upstream refuses for the project ends the subscription with FORBIDDEN', async () => {
    const client = liveClient(h.gateway.url, { connectionParams: { 'X-Auth-Token': OTHER_TOKEN, 'X-Project-Id': DEMO_PROJECT_ID } });
    const sub = collect(client, JOB, { engineId, id: '1' });
    await expect(sub.done).rejects.toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
    const [error] = (await sub.done.catch((errors: any[]) => errors)) as any[];
    expect(error.extensions.http).toBeUndefined();
    await client.dispose();
  });
});

describe('origins and the handshake', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ CORS_ORIGINS: 'https://app.example.com', EXPLORER: 'off', SUBSCRIPTION_INIT_TIMEOUT_MS: '300', MAX_BODY_BYTES: '2048', LOG_LEVEL: 'warn' });
  });
  afterAll(() => h.close());

  it.each([
    ['a foreign Origin', { origin: 'https://evil.example.net' }, 403],
    ['Studio while Sandbox is off', { origin: 'https://studio.apollographql.com' }, 403],
    ['an Origin that only looks like the host', { origin: 'http://127.0.0.1.evil.example.net' }, 403],
    ['an allowed Origin (CORS_ORIGINS)', { origin: 'https://app.example.com' }, 101],
    ['no Origin (not a browser)', {}, 101],
  ])('%s → %s', async (_name, headers, status) => {
    expect(await upgradeStatus(rawSocket(h.gateway.url, headers))).toBe(status);
  });

  it("the gateway's own page (Origin host = Host) may connect", async () => {
    const host = new URL(h.gateway.url).host;
    expect(await upgradeStatus(rawSocket(h.gateway.url, { origin: `http://${host}` }))).toBe(101);
  });

  it('another path → 404; no graphql-transport-ws subprotocol → 4406', async () => {
    expect(await upgradeStatus(rawSocket(h.gateway.url.replace('/graphql', '/other')))).toBe(404);
    // No subprotocol offered at all (a client that offers only others gets none, and gives up itself).
    const socket = rawSocket(h.gateway.url, {}, null);
    expect((await closed(socket)).code).toBe(4406);
  });

  it('no connection_init in time → 4408', async () => {
    const socket = rawSocket(h.gateway.url);
    expect((await closed(socket)).code).toBe(4408);
  });

  it('a message over MAX_BODY_BYTES → 1009', async () => {
    const socket = rawSocket(h.gateway.url);
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { 'X-Auth-Token': DEMO_TOKEN, pad: 'x'.repeat(4096) } }));
    expect((await closed(socket)).code).toBe(1009);
  });

  it("Studio's origin may connect while Sandbox is on", async () => {
    const sandbox = await startHarness({ EXPLORER: 'sandbox' });
    try {
      expect(await upgradeStatus(rawSocket(sandbox.gateway.url, { origin: 'https://studio.apollographql.com' }))).toBe(101);
      expect(await upgradeStatus(rawSocket(sandbox.gateway.url, { origin: 'https://evil.example.net' }))).toBe(403);
    } finally {
      await sandbox.close();
    }
  });

  it('a subscribe before the ack → 4401; a message that is not the protocol → 4400', async () => {
    const early = rawSocket(h.gateway.url);
    await new Promise((resolve) => early.once('open', resolve));
    early.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query: JOB } }));
    expect((await closed(early)).code).toBe(4401);
    const garbage = rawSocket(h.gateway.url);
    await new Promise((resolve) => garbage.once('open', resolve));
    garbage.send('{"type":"nonsense"');
    expect((await closed(garbage)).code).toBe(4400);
  });

  it.each([
    ['connection_ack', { type: 'connection_ack' }],
    ['next', { type: 'next', id: '1', payload: {} }],
    ['error', { type: 'error', id: '1', payload: [{ message: 'x' }] }],
  ])('a message only the server sends (%s) → 4400, at most a warn line', async (_type, message) => {
    const lines = h.logs.length;
    const socket = rawSocket(h.gateway.url);
    expect((await init(socket, { 'X-Auth-Token': DEMO_TOKEN })).message).toMatchObject({ type: 'connection_ack' });
    socket.send(JSON.stringify(message));
    expect(await closed(socket)).toMatchObject({ code: 4400, reason: 'Invalid message received' });
    expect(h.logs.slice(lines).filter((line) => ['error', 'fatal'].includes(JSON.parse(line).level))).toEqual([]);
  });
});

describe('keep-alive', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ SUBSCRIPTION_KEEPALIVE_MS: '150' });
  });
  afterAll(() => h.close());

  it('pings every SUBSCRIPTION_KEEPALIVE_MS; a peer that answers stays, one that does not is dropped', async () => {
    const answering = rawSocket(h.gateway.url);
    let pings = 0;
    answering.on('ping', () => (pings += 1));
    const silent = new (answering.constructor as typeof import('ws'))(h.gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { autoPong: false });
    for (const socket of [answering, silent]) {
      await new Promise((resolve) => socket.once('open', resolve));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { 'X-Auth-Token': DEMO_TOKEN } }));
    }
    const dropped = await closed(silent);
    expect(dropped.code).toBe(1006); // terminated: no closing handshake for a peer that does not answer
    // Pings keep coming after the silent peer is gone; a deadline, not a fixed sleep, so a loaded host's late timers still pass.
    const seen = pings;
    await eventually(() => pings >= seen + 2, 'two more pings to the answering peer');
    expect(answering.readyState).toBe(answering.OPEN);
    answering.close();
  });
});

describe('limits', () => {
  let h: Harness;
  const dir = mkdtempSync(join(tmpdir(), 'ws-limits-'));
  beforeAll(async () => {
    h = await startHarness({
      SUBSCRIPTION_POLL_MS: '200',
      SUBSCRIPTION_MAX_PER_CONNECTION: '3',
      SUBSCRIPTION_MAX_TOTAL: '5',
      MAX_DEPTH: '4',
      MAX_ALIASES: '2',
      MAX_UPSTREAM_CALLS: '1',
      METRICS_MAX_OPERATIONS: '10',
    });
  });
  afterAll(() => h.close());

  it('past SUBSCRIPTION_MAX_PER_CONNECTION, a caller’s share and SUBSCRIPTION_MAX_TOTAL a subscribe is refused with TOO_MANY_SUBSCRIPTIONS; the others go on', async () => {
    const job = h.simulator.startJob(engineId);
    // Tokens the upstream has accepted: each a caller of its own (made-up ones share one: below).
    for (const token of [DEMO_TOKEN, SECOND_TOKEN]) await h.gql('{ engines(first: 1) { totalCount } }', undefined, { 'x-auth-token': token });
    const first = liveClient(h.gateway.url);
    const second = liveClient(h.gateway.url);
    const other = liveClient(h.gateway.url, { connectionParams: { 'X-Auth-Token': SECOND_TOKEN } });
    const open = [0, 1, 2].map(() => collect(first, JOB, { engineId, id: String(job.id) }));
    await Promise.all(open.map((sub) => sub.next(1)));
    const overConnection = collect(first, JOB, { engineId, id: String(job.id) });
    await expect(overConnection.done).rejects.toEqual([
      expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', scope: 'connection', limit: 3 } }),
    ]);
    // A full connection's documents are not even parsed: the limit answers first.
    const unparsed = collect(first, 'subscription {');
    await expect(unparsed.done).rejects.toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'TOO_MANY_SUBSCRIPTIONS' }) })]);
    // The same caller on another socket: its share (a quarter of 5, at least the 3 of a connection) is taken.
    const overCaller = collect(second, JOB, { engineId, id: String(job.id) });
    await expect(overCaller.done).rejects.toEqual([expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', scope: 'caller', limit: 3 } })]);
    const more = [0, 1].map(() => collect(other, JOB, { engineId, id: String(job.id) }));
    await Promise.all(more.map((sub) => sub.next(1)));
    const overTotal = collect(other, JOB, { engineId, id: String(job.id) });
    await expect(overTotal.done).rejects.toEqual([expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', scope: 'gateway', limit: 5 } })]);
    // Everyone admitted still gets each change.
    h.simulator.advanceJob(engineId, job.id);
    await Promise.all([...open, ...more].map((sub) => sub.next(2)));
    // A slot freed is a slot to take, by its caller too.
    open[0]!.stop();
    const again = collect(second, JOB, { engineId, id: String(job.id) });
    await again.next(1);
    const metrics = await h.gql('{ __typename }').then(() => fetch(h.gateway.url.replace('/graphql', '/metrics')).then((r) => r.text()));
    expect(metrics).toMatch(/gateway_subscriptions_refused_total\{reason="connection_limit"\} 2/);
    expect(metrics).toMatch(/gateway_subscriptions_refused_total\{reason="caller_limit"\} 1/);
    expect(metrics).toMatch(/gateway_subscriptions_refused_total\{reason="total_limit"\} 1/);
    expect(metrics).toMatch(/gateway_subscriptions_active\{field="jobUpdated"\} 5/);
    await Promise.all([first.dispose(), second.dispose(), other.dispose()]);
  });

  it('made-up tokens, each a caller of its own, hold one caller’s share of subscriptions together', async () => {
    const job = h.simulator.startJob(engineId);
    // Their first polls wait at the upstream: nothing ends them meanwhile.
    const slow = h.simulator.injectFault({ route: 'getJob', latencyMs: 3000 });
    const token = (i: number) => ({ 'X-Auth-Token': `made-up-token-${i}-${'x'.repeat(8)}` });
    const clients = [0, 1, 2, 4].map((i) => liveClient(h.gateway.url, { connectionParams: token(i) }));
    let fourth: ProtocolSocket | undefined;
    try {
      await eventually(() => h.gateway.subscriptions.active === 0, 'the last test’s subscriptions ended');
      // Identified while the strangers' share had room.
      fourth = await protocolSocket(h.gateway.url, token(3));
      clients.slice(0, 3).map((client) => collect(client, JOB, { engineId, id: String(job.id) }));
      await eventually(() => h.gateway.subscriptions.active === 3, 'three made-up tokens subscribed');
      fourth.burst([{ type: 'subscribe', id: 'd', payload: { query: JOB, variables: { engineId, id: String(job.id) } } }]);
      await eventually(() => fourth!.received.length > 0, "the fourth's answer");
      expect(fourth.received[0]).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', scope: 'caller', limit: 3 } }] });
      // Identified past it: the upstream is asked about the token, and refuses it.
      const fifth = collect(clients[3]!, JOB, { engineId, id: String(job.id) });
      await expect(fifth.done).rejects.toHaveProperty('code', 4401);
      // An accepted caller's share is its own.
      slow();
      await h.gql('{ engines(first: 1) { totalCount } }');
      const accepted = collect(liveClient(h.gateway.url), JOB, { engineId, id: String(job.id) });
      await accepted.next(1);
      accepted.stop();
    } finally {
      slow();
      fourth?.socket.close();
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });

  it('a stranger’s subscriptions move to their caller’s share once its polls are answered, freeing the strangers’ share', async () => {
    const job = h.simulator.startJob(engineId);
    await eventually(() => h.gateway.subscriptions.active === 0, 'the last test’s subscriptions ended');
    // The demo token under an enterprise project not yet seen: credentials the upstream has not answered.
    const fresh = liveClient(h.gateway.url, { connectionParams: { 'X-Auth-Token': DEMO_TOKEN, 'X-Enterprise-Project-ID': 'e'.repeat(32) } });
    const madeUp = liveClient(h.gateway.url, { connectionParams: { 'X-Auth-Token': `made-up-token-9-${'x'.repeat(8)}` } });
    try {
      const subs = [0, 1, 2].map(() => collect(fresh, JOB, { engineId, id: String(job.id) }));
      await Promise.all(subs.map((sub) => sub.next(1)));
      // Admitted, then ended by the upstream's 401: not refused for a full strangers' share.
      const refused = collect(madeUp, JOB, { engineId, id: String(job.id) });
      await expect(refused.done).rejects.toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })]);
      // The caller's own share is full now: another enterprise project, a stranger again, adds none.
      const another = liveClient(h.gateway.url, { connectionParams: { 'X-Auth-Token': DEMO_TOKEN, 'X-Enterprise-Project-ID': 'f'.repeat(32) } });
      try {
        const over = collect(another, JOB, { engineId, id: String(job.id) });
        await expect(over.done).rejects.toEqual([expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', scope: 'caller', limit: 3 } })]);
      } finally {
        await another.dispose();
      }
    } finally {
      await Promise.all([fresh.dispose(), madeUp.dispose()]);
    }
  });

  it.each([
    ['depth', `subscription { jobUpdated(engineId: "${engineId}", id: "1") { engine { latestJob { engine { id } } } } }`, 'GRAPHQL_VALIDATION_FAILED'],
    ['aliases', `subscription { jobUpdated(engineId: "${engineId}", id: "1") { a: id b: id c: id } }`, 'GRAPHQL_VALIDATION_FAILED'],
    ['upstream cost of one event', `subscription { jobUpdated(engineId: "${engineId}", id: "1") { engine { latestJob { id } } } }`, 'QUERY_TOO_COMPLEX'],
    ['two root fields', `subscription { a: jobUpdated(engineId: "${engineId}", id: "1") { id } b: engineJobEvents(engineId: "${engineId}") { kind } }`, 'GRAPHQL_VALIDATION_FAILED'],
    ['an unknown field', `subscription { nope }`, 'GRAPHQL_VALIDATION_FAILED'],
    ['a document that does not parse', `subscription {`, 'GRAPHQL_PARSE_FAILED'],
    ['a query (HTTP serves those)', `{ engines(first: 1) { nodes { id } } }`, 'OPERATION_NOT_SUPPORTED'],
    ['an argument the resolver refuses', `subscription { jobUpdated(engineId: "../../etc", id: "1") { id } }`, 'BAD_USER_INPUT'],
  ])('refuses %s with %s, before any upstream call', async (_name, query, code) => {
    // The earlier tests' pollers stop with their sockets; a poll they had started may still land.
    await quietUpstream(h);
    const calls = h.simulator.callCount();
    const client = liveClient(h.gateway.url);
    const sub = collect(client, query);
    const outcome = await sub.done.then(
      () => sub.results.flatMap((result) => result.errors ?? []),
      (errors: any[]) => errors,
    );
    expect(outcome.map((error: any) => error.extensions?.code)).toContain(code);
    expect(h.simulator.callCount()).toBe(calls);
    await client.dispose();
  });

  it('a subscription over HTTP POST is OPERATION_NOT_SUPPORTED pointing to WebSocket', async () => {
    const response = await h.gql(JOB, { engineId, id: '1' });
    expect(response.status).toBe(200);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('OPERATION_NOT_SUPPORTED');
    expect(response.body.errors?.[0]?.message).toMatch(/WebSocket/);
  });
});

describe('the persisted-query safelist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ws-safelist-'));
  const manifestPath = join(dir, 'manifest.json');
  writeFileSync(
    manifestPath,
    JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: 'watch-v1', name: 'Watch', type: 'subscription', body: JOB }] }),
  );
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ SUBSCRIPTION_POLL_MS: '200', PERSISTED_QUERIES: 'safelist', PERSISTED_QUERIES_MANIFEST: manifestPath });
  });
  afterAll(() => h.close());

  it('serves a listed subscription and refuses any other with PERSISTED_QUERY_NOT_IN_LIST', async () => {
    const job = h.simulator.startJob(engineId);
    const client = liveClient(h.gateway.url);
    const listed = collect(client, JOB, { engineId, id: String(job.id) });
    await listed.next(1);
    const other = collect(client, `${JOB} `, { engineId, id: String(job.id) });
    await expect(other.done).rejects.toEqual([expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } })]);
    await client.dispose();
  });
});

/** Resolves once no poller runs and the upstream has had no call for an interval (a poll already sent lands within it). */
async function quietUpstream(h: Harness): Promise<void> {
  const metrics = h.gateway.url.replace('/graphql', '/metrics');
  const pollers = async () => Number(/^gateway_subscription_pollers_active (\S+)$/m.exec(await fetch(metrics).then((r) => r.text()))?.[1]);
  await eventually(async () => (await pollers()) === 0, 'every poller stopped');
  for (let calls = -1; calls !== h.simulator.callCount(); ) {
    calls = h.simulator.callCount();
    await sleep(200);
  }
}

describe('a subscription document padded to the body limit', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ SUBSCRIPTION_MAX_PER_CONNECTION: '25', SUBSCRIPTION_MAX_TOTAL: '100' });
  });
  afterAll(() => h.close());

  it('counts in its caller’s share, and in SUBSCRIPTION_MAX_TOTAL, for each 16 KiB it holds: a token cannot hold a thousand of them', async () => {
    const job = h.simulator.startJob(engineId);
    await h.gql('{ engines(first: 1) { totalCount } }');
    const client = liveClient(h.gateway.url);
    // Each document distinct (its own comment): its text, and its message's held thrice, about 240 KB while it
    // lives: 15 units of the caller's 25.
    const padded = (n: number) => `${JOB} # ${n} ${'x'.repeat(60_000)}`;
    const first = collect(client, padded(1), { engineId, id: String(job.id) });
    await first.next(1);
    const second = collect(client, padded(2), { engineId, id: String(job.id) });
    await expect(second.done).rejects.toEqual([expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', scope: 'caller', limit: 25 } })]);
    // A plain one still fits beside it.
    const plain = collect(client, JOB, { engineId, id: String(job.id) });
    await plain.next(1);
    await client.dispose();
  });

  it('exports the units the open subscriptions hold, beside their count, through /metrics', async () => {
    const job = h.simulator.startJob(engineId);
    await h.gql('{ engines(first: 1) { totalCount } }');
    const client = liveClient(h.gateway.url);
    const scrape = () => fetch(h.gateway.url.replace('/graphql', '/metrics')).then((r) => r.text());
    const gauge = (text: string, name: string) => Number(new RegExp(`^${name}\\{field="jobUpdated"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    const padded = collect(client, `${JOB} # ${'x'.repeat(60_000)}`, { engineId, id: String(job.id) });
    const plain = collect(client, JOB, { engineId, id: String(job.id) });
    await Promise.all([padded.next(1), plain.next(1)]);
    const live = await scrape();
    expect(gauge(live, 'gateway_subscriptions_active')).toBe(2);
    // What SUBSCRIPTION_MAX_TOTAL compares: the padded one counts for its 16 KiB units, the plain one once.
    expect(gauge(live, 'gateway_subscription_units_active')).toBe(h.gateway.subscriptions.units);
    expect(h.gateway.subscriptions.units).toBeGreaterThan(2 + Math.floor(60_000 / (16 * 1024)));
    await client.dispose();
    await eventually(async () => gauge(await scrape(), 'gateway_subscription_units_active') === 0, 'the units given back');
    expect(h.gateway.subscriptions.units).toBe(0);
  });

  it('counts the padding of its variables too: graphql-ws holds the message for the subscription’s life', async () => {
    await h.gql('{ engines(first: 1) { totalCount } }');
    const client = liveClient(h.gateway.url);
    const deep = 'subscription ($e: ID!, $a: String) { engineJobEvents(engineId: $e) { kind job { engine { jobs(first: 1, after: $a) { nodes { id } } } } } }';
    const padding = 'p'.repeat(80_000);
    const first = collect(client, deep, { e: engineId, a: padding });
    const second = collect(client, deep, { e: engineId, a: `${padding}q` });
    await expect(second.done).rejects.toEqual([expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', scope: 'caller', limit: 25 } })]);
    first.stop();
    await client.dispose();
  });

  it('counts what its message holds parsed: 3,000 empty objects are 6 KB of text and far more in the heap', async () => {
    await h.gql('{ engines(first: 1) { totalCount } }');
    const socket = await protocolSocket(h.gateway.url);
    const query = 'subscription ($e: ID!) { engineJobEvents(engineId: $e) { kind } }';
    const pad = Array.from({ length: 3000 }, () => ({}));
    socket.burst([1, 2].map((n) => ({ type: 'subscribe', id: `s${n}`, payload: { query, variables: { e: engineId, pad } } })));
    await eventually(() => socket.received.some((message) => message.id === 's2'), 'the second answer');
    expect(socket.received.find((message) => message.id === 's2')).toMatchObject({
      type: 'error',
      payload: [{ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', scope: 'caller', limit: 25 } }],
    });
    socket.socket.close();
  });
});
