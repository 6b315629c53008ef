import { getIntrospectionQuery } from 'graphql';
import { SEED } from '@cse-jobs-gateway/simulator';
import { CACHES_OFF, errorCodes, startHarness, type Harness } from '../support/harness';

/** Abusive operations are refused before any upstream call: depth, aliases, size, upstream cost. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness(CACHES_OFF);
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.simulator.reset();
});

/** `job { engine { latestJob { engine { … id } } } }`: `depth` levels of fields, the leaf included. */
function deepQuery(depth: number): string {
  let selection = 'id';
  for (let level = depth - 2; level >= 1; level--) {
    selection = `${level % 2 === 1 ? 'engine' : 'latestJob'} { ${selection} }`;
  }
  return `{ job(engineId: "${SEED.engines.big}", id: "1") { ${selection} } }`;
}

describe('depth (MAX_DEPTH, default 12)', () => {
  it('refuses 13 levels with GRAPHQL_VALIDATION_FAILED and no upstream call', async () => {
    const response = await h.gql(deepQuery(13));
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(response.body.errors![0]!.message).toMatch(/depth limit of 12 exceeded, found 13/);
    expect(h.simulator.calls).toHaveLength(0);
  });

  it('accepts 12 levels', async () => {
    const response = await h.gql(deepQuery(12));
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
  });

  it('follows MAX_DEPTH', async () => {
    const shallow = await startHarness({ MAX_DEPTH: '3' });
    try {
      expect(errorCodes(await shallow.gql(deepQuery(4)))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect((await shallow.gql(deepQuery(3))).body.errors).toBeUndefined();
    } finally {
      await shallow.close();
    }
  });
});

describe('aliases (MAX_ALIASES, default 30)', () => {
  const refusedAliases = (response: Awaited<ReturnType<Harness['gql']>>) => {
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    return response.body.errors![0]!.message;
  };
  const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: engine(id: "${SEED.engines.big}") { id }`).join(' ')} }`;

  it('refuses 31 aliases with no upstream call', async () => {
    const response = await h.gql(aliases(31));
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(response.body.errors![0]!.message).toMatch(/Aliases limit of 30 exceeded/);
    expect(h.simulator.calls).toHaveLength(0);
  });

  it('refuses an alias longer than MAX_ALIAS_LENGTH (128) before anything runs: every error below it repeats it', async () => {
    // Above a list whose every item fails: each error's path carries the alias.
    const errorPerItem = (alias: string) =>
      `{ ${alias}: engine(id: "${SEED.engines.big}") { jobs(first: 100) { nodes { engine { jobs(first: -1) { totalCount } } } } } }`;
    const refused = await h.gql(errorPerItem('a'.repeat(129)));
    expect(refusedAliases(refused)).toBe('An alias may be at most 128 characters long (MAX_ALIAS_LENGTH): every item of a list, and every error below it, repeats it.');
    expect((refused.body.errors![0] as { locations?: unknown }).locations).toEqual([{ line: 1, column: 3 }]);
    expect(h.simulator.calls).toHaveLength(0);
    const answered = await h.gql(errorPerItem('a'.repeat(128)));
    expect(answered.body.data).toBeDefined();
    expect(errorCodes(answered).every((code) => code === 'BAD_USER_INPUT')).toBe(true);
  });

  it('counts aliases of __typename: 31 in a fragment spread under a page of tasks are refused', async () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `t${i}: __typename`).join(' ');
    const document = (n: number) =>
      `{ engine(id: "${SEED.engines.big}") { jobs(first: 100) { nodes { tasks { ...F } } } } } fragment F on Task { ${names(n)} }`;
    const refused = await h.gql(document(31));
    expect(refusedAliases(refused)).toMatch(/Aliases limit of 30 exceeded, found 31/);
    expect(h.simulator.calls).toHaveLength(0);
    const accepted = await h.gql(document(30));
    expect(accepted.body.errors).toBeUndefined();
    expect(accepted.body.data?.engine).toBeTruthy();
  });

  it('accepts 30', async () => {
    const response = await h.gql(aliases(30));
    expect(response.body.errors).toBeUndefined();
    // The loader makes the 30 identical lookups one call.
    expect(h.simulator.callCount({ route: 'getEngine' })).toBe(1);
  });
});

describe('document size', () => {
  it('stops parsing past MAX_TOKENS (default 2000): GRAPHQL_PARSE_FAILED, no upstream call', async () => {
    const response = await h.gql(`{ engine(id: "${SEED.engines.big}") { ${'id '.repeat(2000)} } }`);
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(response.body.errors![0]!.message).toMatch(/more tha[nt] 2000 tokens/);
    expect(h.simulator.calls).toHaveLength(0);
  });
});

describe('upstream cost (MAX_UPSTREAM_CALLS, default 50)', () => {
  it('refuses engines(first: 100) { nodes { jobs(first: 100) } } with QUERY_TOO_COMPLEX, the estimate and the limit', async () => {
    const response = await h.gql('{ engines(first: 100) { nodes { jobs(first: 100) { totalCount } } } }');
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(response.body.errors![0]!.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', estimate: 101, limit: 50 });
    expect(response.body.data).toBeUndefined();
    expect(h.simulator.calls).toHaveLength(0);
  });

  it('counts first/last given as variables', async () => {
    const query = 'query ($n: Int!) { engines(first: $n) { nodes { latestJob { id } } } }';
    const refused = await h.gql(query, { n: 50 });
    expect(refused.body.errors![0]!.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', estimate: 51 });
    expect(h.simulator.calls).toHaveLength(0);
    const accepted = await h.gql(query, { n: 49 });
    expect(accepted.body.errors).toBeUndefined();
  });

  it('leaves a first above the page maximum to the resolver: BAD_USER_INPUT on that field, not QUERY_TOO_COMPLEX', async () => {
    const response = await h.gql('{ engines(first: 1000) { nodes { jobs(first: 100) { totalCount } } } }');
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.errors![0]!.path).toEqual(['engines']);
    expect(h.simulator.calls).toHaveLength(0);
  });

  it('exempts introspection (and it fits the document limits)', async () => {
    const response = await h.gql(getIntrospectionQuery({ descriptions: true, directiveIsRepeatable: true, specifiedByUrl: true }));
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.__schema.queryType.name).toBe('Query');
    expect(h.simulator.calls).toHaveLength(0);
  });

  it('follows MAX_UPSTREAM_CALLS', async () => {
    const strict = await startHarness({ MAX_UPSTREAM_CALLS: '2' });
    try {
      const response = await strict.gql(`{ a: engine(id: "${SEED.engines.big}") { id } b: engine(id: "${SEED.engines.single}") { id } c: engine(id: "x") { id } }`);
      expect(response.body.errors![0]!.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', estimate: 3, limit: 2 });
      expect(strict.simulator.calls).toHaveLength(0);
    } finally {
      await strict.close();
    }
  });
});
