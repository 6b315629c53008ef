import { SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';
import { eventually, protocolSocket } from '../support/liveClient';

/** The gateway as a Federation 2 subgraph: `_service`, and `_entities` through the loaders. */

const ENTITIES = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Engine { id name status }
    ... on Job { id engineId jobStatus: status }
  }
}`;
const engineRef = (id: string) => ({ __typename: 'Engine', id });
const jobRef = (engineId: string, id: string) => ({ __typename: 'Job', engineId, id });

let h: Harness;
let engineIds: string[];
beforeAll(async () => {
  h = await startHarness(CACHES_OFF);
  const listed = await h.gql('{ engines(first: 100) { nodes { id } } }');
  engineIds = listed.body.data.engines.nodes.map((node: { id: string }) => node.id);
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.simulator.reset();
});

it('serves its Federation 2 SDL at _service, with the @link and the entity keys', async () => {
  const response = await h.gql('{ _service { sdl } }');
  expect(response.body.errors).toBeUndefined();
  const sdl: string = response.body.data._service.sdl;
  expect(sdl).toMatch(/@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.\d+"/);
  expect(sdl).toMatch(/type Engine\s+@key\(fields: "id"\)/);
  expect(sdl).toMatch(/type Job\s+@key\(fields: "engineId id"\)/);
  expect(h.simulator.calls).toHaveLength(0);
});

it('resolves a few Engine references with one details call each (at or below the threshold)', async () => {
  const ids = [SEED.engines.big, SEED.engines.single, SEED.engines.onePage];
  const response = await h.gql(ENTITIES, { representations: ids.map(engineRef) });
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data._entities.map((e: { id: string }) => e.id)).toEqual(ids);
  expect(response.body.data._entities[0]).toMatchObject({ __typename: 'Engine', name: expect.any(String), status: 'AVAILABLE' });
  expect(h.simulator.callCount({ route: 'getEngine' })).toBe(3);
  expect(h.simulator.callCount({ route: 'listEngines' })).toBe(0);
});

it('resolves many Engine references from one engine-list page instead of one call each', async () => {
  const ids = engineIds.slice(0, 12);
  const response = await h.gql(ENTITIES, { representations: ids.map(engineRef) });
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data._entities.map((e: { id: string }) => e.id)).toEqual(ids);
  expect(h.simulator.callCount({ route: 'listEngines' })).toBe(1);
  expect(h.simulator.callCount({ route: 'getEngine' })).toBe(0);
});

it('falls back to details only for the references the list does not contain, and answers null for a missing engine', async () => {
  const ids = [...engineIds.slice(0, 4), SEED.engines.gone, 'no-such-engine'];
  const response = await h.gql(ENTITIES, { representations: ids.map(engineRef) });
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data._entities.slice(0, 4).map((e: { id: string }) => e.id)).toEqual(ids.slice(0, 4));
  expect(response.body.data._entities.slice(4)).toEqual([null, null]);
  expect(h.simulator.callCount({ route: 'listEngines' })).toBe(1);
  expect(h.simulator.callCount({ route: 'getEngine' })).toBe(2);
});

it('de-duplicates repeated references', async () => {
  const latest = await h.gql(`{ engine(id: "${SEED.engines.big}") { latestJob { id } } }`);
  const jobId: string = latest.body.data.engine.latestJob.id;
  h.simulator.resetCalls();
  const response = await h.gql(ENTITIES, {
    representations: [engineRef(SEED.engines.big), engineRef(SEED.engines.big), jobRef(SEED.engines.big, jobId), jobRef(SEED.engines.big, jobId)],
  });
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data._entities.map((e: { id: string }) => e.id)).toEqual([SEED.engines.big, SEED.engines.big, jobId, jobId]);
  expect(h.simulator.callCount({ route: 'getEngine' })).toBe(1);
  expect(h.simulator.callCount({ route: 'getJob' })).toBe(1);
  expect(h.simulator.calls).toHaveLength(2);
});

it('resolves Job references by engineId and id through the batched job loader', async () => {
  const jobs = await h.gql(`{ engine(id: "${SEED.engines.big}") { jobs(first: 3) { nodes { id } } } }`);
  const jobIds: string[] = jobs.body.data.engine.jobs.nodes.map((node: { id: string }) => node.id);
  h.simulator.resetCalls();
  const refs = [...jobIds, jobIds[0]!].map((id) => jobRef(SEED.engines.big, id));
  const response = await h.gql(ENTITIES, { representations: refs });
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data._entities.map((e: { id: string }) => e.id)).toEqual([...jobIds, jobIds[0]]);
  expect(response.body.data._entities[0]).toMatchObject({ __typename: 'Job', engineId: SEED.engines.big });
  // One call per distinct job: the repeated reference shares the first one's.
  expect(h.simulator.callCount({ route: 'getJob' })).toBe(3);
  expect(h.simulator.calls).toHaveLength(3);
});

it('answers null for a job that does not exist', async () => {
  const response = await h.gql(ENTITIES, { representations: [jobRef(SEED.engines.big, '999999999')] });
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data._entities).toEqual([null]);
});

it.each([
  ['an unknown __typename', [{ __typename: 'Deployment', id: 'x' }]],
  ['no __typename', [{ id: 'x' }]],
  ['a non-object', ['Engine']],
])('refuses %s with BAD_USER_INPUT before any upstream call', async (_name, representations) => {
  // A router's fetch asks for JSON: the refusal comes with 200, so the router keeps its code
  // (see answerStatus); a client that accepts application/graphql-response+json gets the 400.
  const response = await h.gql(ENTITIES, { representations });
  expect(response.status).toBe(200);
  expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
  const strict = await h.gql(ENTITIES, { representations }, { accept: 'application/graphql-response+json' });
  expect(strict.status).toBe(400);
  expect(errorCodes(strict)).toEqual(['BAD_USER_INPUT']);
  // Preference as Apollo reads it: q-values, not the text's mere presence.
  const refusingIt = await h.gql(ENTITIES, { representations }, { accept: 'application/graphql-response+json;q=0, application/json' });
  expect(refusingIt.status).toBe(200);
  expect(refusingIt.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(h.simulator.calls).toHaveLength(0);
});

it.each([
  ['an Engine without id', { __typename: 'Engine' }],
  ['an Engine with a malformed id', { __typename: 'Engine', id: '../x' }],
  ['a Job with a non-numeric id', { __typename: 'Job', engineId: SEED.engines.big, id: 'abc' }],
  ['a Job without engineId', { __typename: 'Job', id: '1' }],
])('refuses %s with BAD_USER_INPUT on that entity only', async (_name, bad) => {
  const response = await h.gql(ENTITIES, { representations: [bad, engineRef(SEED.engines.single)] });
  expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
  expect(response.body.errors![0]!.path).toEqual(['_entities', 0]);
  expect(response.body.data._entities[1]).toMatchObject({ id: SEED.engines.single });
  expect(h.simulator.callCount({ route: 'getEngine', engineId: SEED.engines.single })).toBe(1);
  expect(h.simulator.calls).toHaveLength(1);
});

describe('with small list pages', () => {
  let small: Harness;
  beforeAll(async () => {
    small = await startHarness({ ...CACHES_OFF, CSE_MAX_PAGE_SIZE: '10' });
  });
  afterAll(async () => {
    await small.close();
  });

  it('reads the remaining list pages when they are fewer calls than the engines still missing', async () => {
    // ~30 engines: the first page of 10 leaves ~20 missing, and the 2 other pages cost less.
    const response = await small.gql(ENTITIES, { representations: engineIds.map(engineRef) });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data._entities.map((e: { id: string }) => e.id)).toEqual(engineIds);
    const pages = Math.ceil(engineIds.length / 10);
    expect(small.simulator.callCount({ route: 'listEngines' })).toBe(pages);
    expect(small.simulator.callCount({ route: 'getEngine' })).toBe(0);
  });
});

describe('costed by the calls its batching makes (not one per representation)', () => {
  it('lets a router ask for 60 engines: one list page, and details for the ones the list lacks while the budget lasts', async () => {
    const unknown = Array.from({ length: 60 - engineIds.length }, (_, i) => `not-listed-${i}`);
    const ids = [...engineIds, ...unknown];
    expect(ids).toHaveLength(60);
    const response = await h.gql(ENTITIES, { representations: ids.map(engineRef) });
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data._entities.slice(0, engineIds.length).map((e: { id: string }) => e.id)).toEqual(engineIds);
    expect(response.body.data._entities.slice(engineIds.length).every((e: unknown) => e === null)).toBe(true);
    // The budget of 60 references: FEDERATION_ENGINE_LIST_MAX_PAGES (10) + the threshold (3).
    expect(h.simulator.callCount({ route: 'listEngines' })).toBe(1);
    expect(h.simulator.callCount({ route: 'getEngine' })).toBe(13 - 1);
    expect(h.simulator.callCount()).toBeLessThanOrEqual(13);
  });
});

describe('a list too long to read within the budget', () => {
  let tight: Harness;
  beforeAll(async () => {
    tight = await startHarness({ ...CACHES_OFF, CSE_MAX_PAGE_SIZE: '10', FEDERATION_ENGINE_LIST_MAX_PAGES: '2' });
  });
  afterAll(async () => {
    await tight.close();
  });

  it('looks up what the budget allows and refuses the rest with QUERY_TOO_COMPLEX, never making more calls', async () => {
    const response = await tight.gql(ENTITIES, { representations: engineIds.map(engineRef) });
    // First page (10 engines), then details for 4: the budget is 2 pages + 3; 30-odd engines need 3 pages.
    expect(tight.simulator.callCount()).toBe(5);
    const resolved = response.body.data._entities.filter((e: unknown) => e !== null);
    expect(resolved).toHaveLength(10 + 4);
    const codes = new Set(errorCodes(response));
    expect(codes).toEqual(new Set(['QUERY_TOO_COMPLEX']));
    expect(response.body.errors).toHaveLength(engineIds.length - 14);
  });
});

describe('engine references across `_entities` fields', () => {
  // One batch for them all: 3 + 3 references (each field at the threshold) are 6 above it, a list page more.
  const TWO = `query ($a: [_Any!]!, $b: [_Any!]!) {
    a: _entities(representations: $a) { ... on Engine { id } }
    b: _entities(representations: $b) { ... on Engine { id } }
  }`;
  const missing = (from: number) => [0, 1, 2].map((i) => engineRef(`no-such-engine-${from + i}`));

  it('are counted as the one batch they load in: past MAX_UPSTREAM_CALLS, refused before any call', async () => {
    const tight = await startHarness({ ...CACHES_OFF, MAX_UPSTREAM_CALLS: '6' });
    try {
      const response = await tight.gql(TWO, { a: missing(0), b: missing(3) });
      expect(errorCodes(response)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(tight.simulator.calls).toHaveLength(0);
    } finally {
      await tight.close();
    }
  });

  it('make no more calls than that estimate', async () => {
    const response = await h.gql(TWO, { a: missing(0), b: missing(3) });
    expect(response.body.data).toEqual({ a: [null, null, null], b: [null, null, null] });
    expect(h.simulator.calls.length).toBeLessThanOrEqual(7);
  });
});

describe('the representations one operation may carry: MAX_LIST_ITEMS, refused before anything runs', () => {
  // Unknown engines: each is resolved (to null) and answered, whatever the list pages cost upstream.
  const refs = (n: number, from = 0) => Array.from({ length: n }, (_, i) => engineRef(`e${from + i}`));
  const literal = (n: number) => `{ _entities(representations: [${refs(n).map(({ id }) => `{ __typename: "Engine", id: "${id}" }`).join(', ')}]) { ... on Engine { id } } }`;
  const TWO = `query ($a: [_Any!]!, $b: [_Any!]!) {
    a: _entities(representations: $a) { ... on Engine { id } }
    b: _entities(representations: $b) { ... on Engine { id } }
  }`;
  let small: Harness;
  beforeAll(async () => {
    small = await startHarness({ ...CACHES_OFF, MAX_LIST_ITEMS: '20' });
  });
  afterAll(async () => {
    await small.close();
  });
  beforeEach(() => {
    small.simulator.reset();
  });

  it.each([
    ['in variables', (n: number) => [ENTITIES, { representations: refs(n) }] as const],
    ['as a literal list in the document', (n: number) => [literal(n), undefined] as const],
    ['across two `_entities` fields, summed', (n: number) => [TWO, { a: refs(10), b: refs(n - 10, 10) }] as const],
  ])('%s: exactly the limit answered, one more refused with QUERY_TOO_COMPLEX and no upstream call', async (_name, operation) => {
    const [atLimit, atLimitVariables] = operation(20);
    const answered = await small.gql(atLimit, atLimitVariables);
    expect(answered.body.errors).toBeUndefined();
    expect(Object.values(answered.body.data).flat()).toHaveLength(20);
    small.simulator.resetCalls();

    const [over, overVariables] = operation(21);
    // A router's fetch asks for JSON and gets 200 (see answerStatus); application/graphql-response+json gets the 400.
    const routed = await small.gql(over, overVariables);
    const strict = await small.gql(over, overVariables, { accept: 'application/graphql-response+json' });
    expect([routed.status, strict.status]).toEqual([200, 400]);
    for (const response of [routed, strict]) {
      expect(response.body.data).toBeUndefined();
      expect(response.body.errors).toEqual([
        expect.objectContaining({
          message: expect.stringContaining('MAX_LIST_ITEMS'),
          extensions: { code: 'QUERY_TOO_COMPLEX', representations: 21, limit: 20 },
        }),
      ]);
    }
    expect(small.simulator.calls).toHaveLength(0);
  });

  it('refuses a made-up token with 5000 Engine representations before any upstream call (the default limit, 1000)', async () => {
    // Within MAX_UPSTREAM_CALLS (engine references cost list pages) and MAX_BODY_BYTES; answered,
    // it cost an upstream call and 5000 representations resolved, each one a list item.
    const response = await h.gql(ENTITIES, { representations: refs(5000) }, { 'x-auth-token': 'made-up-token-000000000040' });
    expect(response.body.errors).toEqual([expect.objectContaining({ extensions: { code: 'QUERY_TOO_COMPLEX', representations: 5000, limit: 1000 } })]);
    expect(h.simulator.calls).toHaveLength(0);
  });

  it('fails `_entities` once when the upstream refuses the token, not once for each of 1000 representations', async () => {
    // One field error at ["_entities"]: a router places it at the fetch's path, for all of its entities.
    const response = await h.gql(ENTITIES, { representations: refs(1000) }, { 'x-auth-token': 'made-up-token-000000000041' });
    expect(response.status).toBe(200);
    expect(response.body.data).toBeNull();
    expect(response.body.errors).toEqual([
      expect.objectContaining({
        message: "The upstream refused the caller's token.",
        path: ['_entities'],
        extensions: { code: 'UNAUTHENTICATED', upstream: expect.objectContaining({ status: 401 }) },
      }),
    ]);
    expect(h.simulator.calls).toHaveLength(1);
  });

  it('still answers each representation its own failure when the token is accepted', async () => {
    const response = await h.gql(ENTITIES, { representations: [engineRef(engineIds[0]!), { __typename: 'Engine' }, engineRef('e-unknown')] });
    expect(response.body.data._entities).toEqual([expect.objectContaining({ id: engineIds[0] }), null, null]);
    expect(response.body.errors).toEqual([expect.objectContaining({ path: ['_entities', 1], extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
  });

  it('is the same refusal over WebSocket, where admission is the same', async () => {
    const socket = await protocolSocket(small.gateway.url);
    small.simulator.resetCalls();
    const overHttp = await small.gql(ENTITIES, { representations: refs(21) });
    socket.burst([{ type: 'subscribe', id: '1', payload: { query: ENTITIES, variables: { representations: refs(21) } } }]);
    await eventually(() => socket.received.length > 0, 'an answer for the subscribe');
    socket.socket.close();
    expect(socket.received[0]).toEqual({ type: 'error', id: '1', payload: overHttp.body.errors });
    expect(overHttp.body.errors![0]!.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', representations: 21, limit: 20 });
    expect(small.simulator.calls).toHaveLength(0);
  });
});
