import fc from 'fast-check';
import { getOperationAST, parse, print, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { buildGatewaySchema } from '../../src/graphql/buildSchema';
import { expandedFieldCount } from '../../src/graphql/execution/expandedSize';
import { coerceVariables, createEstimator } from '../../src/security/estimateUpstreamCalls';
import { selectionSetExcess } from '../../src/security/validationRules';
import { SEED } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { send } from './http';

/**
 * Every walk over a document is linear in its size. The shapes that are not, walked naively, are
 * fragments spread more than once on the way down: each spread doubles the work of everything
 * below it, so a 1.5 KB document is 2^40 walks (the event loop froze: /healthz stopped answering
 * and SIGTERM was ignored).
 */

const schema = buildGatewaySchema();
const options = { maxPageSize: 100, defaultPageSize: 20, engineListThreshold: 3, maxListPages: 10 };
/** Admission's estimator, given the variables as a request sends them. */
const rawEstimator = (settings: Parameters<typeof createEstimator>[1]) => {
  const estimate = createEstimator(schema, settings);
  return (document: DocumentNode, operation: OperationDefinitionNode, raw?: Record<string, unknown>) => estimate(document, operation, coerceVariables(schema, operation, raw));
};
const estimateOf = (document: DocumentNode) => rawEstimator(options)(document, getOperationAST(document)!, {});

/** `query { ...X0 }` where each fragment spreads the next one `fanOut` times: the issue's document at fanOut 2. */
function spreadChain(depth: number, fanOut: number): string {
  const lines = ['query { ...X0 }'];
  for (let i = 0; i < depth; i += 1) lines.push(`fragment X${i} on Query { ${Array(fanOut).fill(`...X${i + 1}`).join(' ')} }`);
  lines.push(`fragment X${depth} on Query { __typename }`);
  return lines.join('\n');
}

/**
 * Fragments on Engine, each selecting the next `fanOut` times through fields and inline
 * fragments (which execution merges, but a walk that inlines fragments does not), with some
 * fetching fields on the way so the estimate has something to count.
 */
function fieldChain(depth: number, fanOut: number, fetching: boolean): string {
  const lines = [`query { engine(id: "e") { ...F0 } }`];
  for (let i = 0; i < depth; i += 1) {
    const step = (k: number) =>
      fetching && k === 0 ? `latestJob { engine { ...F${i + 1} } }` : `... on Engine { ...F${i + 1} }`;
    lines.push(`fragment F${i} on Engine { id ${Array.from({ length: fanOut }, (_, k) => step(k)).join(' ')} }`);
  }
  lines.push(`fragment F${depth} on Engine { name jobs(first: 2) { nodes { id } } }`);
  return lines.join('\n');
}

/** A naive expansion, for small documents: every spread replaced by its fragment, recursively. */
function naiveExpandedFields(document: DocumentNode): number {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === 'FragmentDefinition' ? [[d.name.value, d] as const] : [])));
  const count = (selections: readonly any[]): number =>
    selections.reduce((sum, s) => {
      if (s.kind === 'Field') return sum + 1 + (s.selectionSet ? count(s.selectionSet.selections) : 0);
      if (s.kind === 'InlineFragment') return sum + count(s.selectionSet.selections);
      return sum + count(fragments.get(s.name.value)!.selectionSet.selections);
    }, 0);
  const operation = document.definitions.find((d) => d.kind === 'OperationDefinition') as any;
  return count(operation.selectionSet.selections);
}

describe('the upstream-cost estimate is linear in the document', () => {
  it('walks fragment chains of any depth and fan-out in steps proportional to their length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.boolean(), (depth, fanOut, fields, fetching) => {
        const text = fields ? fieldChain(depth, fanOut, fetching) : spreadChain(depth, fanOut);
        const document = parse(text);
        const { steps } = estimateOf(document);
        // Each selection of each fragment is visited a bounded number of times (once per context).
        expect(steps).toBeLessThanOrEqual(4 * text.length);
      }),
      { numRuns: 300 },
    );
  });

  it("answers the issue's 40-fragment document at once: it costs nothing", () => {
    const { calls, steps } = estimateOf(parse(spreadChain(40, 2)));
    expect(calls).toBe(0);
    expect(steps).toBeLessThan(200);
  });

  it('still counts what the paths through the fragments would call', () => {
    // engine: 1; F0 = latestJob (1, its Job.engine is free) + 2 × F1; F1 = 1 + 2 × F2; F2 = jobs (1).
    const { calls } = estimateOf(parse(fieldChain(2, 2, true)));
    expect(calls).toBe(1 + (1 + 2 * (1 + 2 * 1)));
    const huge = estimateOf(parse(fieldChain(40, 2, true)));
    expect(huge.calls).toBeGreaterThan(50);
  });
});

describe('expandedFieldCount (what graphql-jit would inline)', () => {
  it('equals a naive expansion on small documents', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.boolean(), (depth, fanOut, fields, fetching) => {
        const document = parse(fields ? fieldChain(depth, fanOut, fetching) : spreadChain(depth, fanOut));
        expect(expandedFieldCount(document, undefined)).toBe(naiveExpandedFields(document));
      }),
    );
  });

  it('counts a 2^60 expansion without doing it', () => {
    expect(expandedFieldCount(parse(spreadChain(60, 2)), undefined)).toBe(2 ** 60);
  });

  it('counts the named operation of a document with several', () => {
    const document = parse('query A { __typename } query B { engines { totalCount nodes { id } } }');
    expect(expandedFieldCount(document, 'A')).toBe(1);
    expect(expandedFieldCount(document, 'B')).toBe(4);
    expect(expandedFieldCount(document, 'C')).toBe(0);
  });
});

// Adaptive compiles a shape after its first use here: a second request meets the compiled path.
describe.each(['adaptive', 'graphql-js'])('through HTTP, a production build with GRAPHQL_EXECUTOR=%s', (executor) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ NODE_ENV: 'production', GRAPHQL_EXECUTOR: executor, GRAPHQL_COMPILE_AFTER_USES: '1', MAX_TOKENS: '5000' });
  });
  afterAll(() => h.close());

  // Without the memo these never return (2^40 and 2^30 walks): the test fails on its time-out.
  it("answers the issue's document with a made-up token, and stays responsive", async () => {
    const [response, health] = await Promise.all([
      h.gql(spreadChain(40, 2), undefined, { 'x-auth-token': 'made-up-token-0123456789' }),
      send(h.gateway.url.replace('/graphql', '/healthz')),
    ]);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { __typename: 'Query' } });
    expect(health.status).toBe(200);
    expect(h.simulator.callCount()).toBe(0);
  });

  it('executes a document whose fragments expand to 2^30 fields, merging them as graphql-js does', async () => {
    const text = [
      `query { engine(id: "${SEED.engines.single}") { ...F0 } }`,
      ...Array.from({ length: 30 }, (_, i) => `fragment F${i} on Engine { ... on Engine { ...F${i + 1} } ... on Engine { ...F${i + 1} } }`),
      'fragment F30 on Engine { id name }',
    ].join('\n');
    for (let i = 0; i < 2; i += 1) {
      const response = await h.gql(text);
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data.engine).toEqual({ id: SEED.engines.single, name: expect.any(String) });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });

  it('refuses a document whose fetching fields multiply past the limit, at once and without a call', async () => {
    const calls = h.simulator.callCount();
    // Shallow enough for MAX_DEPTH: the fan-out is in spreads, the one fetching field at the bottom.
    const text = [
      'query { ...Q0 }',
      ...Array.from({ length: 40 }, (_, i) => `fragment Q${i} on Query { ...Q${i + 1} ... on Query { ...Q${i + 1} } }`),
      'fragment Q40 on Query { engines(first: 1) { totalCount } }',
    ].join('\n');
    const response = await h.gql(text);
    expect(response.status).toBe(200);
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 50 });
    expect(Number.isSafeInteger(response.body.errors?.[0]?.extensions?.estimate)).toBe(true);
    expect(h.simulator.callCount()).toBe(calls);
  });

  it('keeps the document it printed: fragments are not rewritten', () => {
    // A guard on the generators above: print(parse(x)) round-trips, so the documents are valid GraphQL.
    expect(() => print(parse(fieldChain(3, 2, true)))).not.toThrow();
  });
});

describe('selectionSetExcess: one response name with selections past 30 times, or more than 100 fragment spreads, in a selection set', () => {
  const times = (text: string, n: number) => Array(n).fill(text).join(' ');
  const repeated = (name: string) => `"${name}" is selected more than 30 times in one selection set.`;
  const spreads = 'A selection set spreads more than 100 fragments.';
  const fragments = (n: number, select = (i: number) => `f${i}: __typename`) =>
    Array.from({ length: n }, (_, i) => `fragment F${i} on Query { ${select(i)} }`).join(' ');
  const engines = 'engines { totalCount }';
  /** `k` engines each spreading its own fragment of `m` latestJob selections (a fourth attack's document). */
  const siblings = (k: number, m: number) =>
    `{ ${Array.from({ length: k }, (_, i) => `engine(id: "x") { ...L${i} }`).join(' ')} } ` +
    Array.from({ length: k }, (_, i) => `fragment L${i} on Engine { ${times('latestJob { id }', m)} }`).join(' ');
  it.each<[string, string, string | undefined]>([
    ['30 times', `{ ${times(engines, 30)} }`, undefined],
    ['31 times', `{ ${times(engines, 31)} }`, repeated('engines')],
    ['leaves 100 times (graphql-js compares them cheaply)', `{ engines { ${times('totalCount', 100)} } }`, undefined],
    ['leaves 101 times', `{ engines { ${times('totalCount', 101)} } }`, '"totalCount" is selected more than 100 times in one selection set.'],
    ['a leaf in each of 37 fragments (Relay’s id)', `query { ...F0 } ${Array.from({ length: 37 }, (_, i) => `fragment F${i} on Query { id ${i < 36 ? `...F${i + 1}` : ''} }`).join(' ')}`, undefined],
    ['31 times under one alias', `{ ${times(`n: ${engines}`, 31)} }`, repeated('n')],
    ['31 times with other arguments', `{ ${Array.from({ length: 31 }, (_, i) => `engine(id: "${i}") { id }`).join(' ')} }`, repeated('engine')],
    ['through inline fragments', `{ ${times(`... on Query { ${engines} }`, 31)} }`, repeated('engines')],
    ['30 in each of two selection sets', `{ a: engine(id: "x") { ${times('jobs { totalCount }', 30)} } b: engine(id: "y") { ${times('jobs { totalCount }', 30)} } }`, undefined],
    ['in a fragment definition', `query { ...F } fragment F on Query { ${times(engines, 31)} }`, repeated('engines')],
    ['100 distinct fragments spread', `query { ${Array.from({ length: 100 }, (_, i) => `...F${i}`).join(' ')} } ${fragments(100)}`, undefined],
    ['101 distinct fragments spread', `query { ${Array.from({ length: 101 }, (_, i) => `...F${i}`).join(' ')} } ${fragments(101)}`, spreads],
    ['one fragment spread 101 times, through inline fragments', `query { ${times('... on Query { ...F0 }', 101)} } ${fragments(1)}`, spreads],
    ['31 times through distinct fragments', `query { ${Array.from({ length: 31 }, (_, i) => `...F${i}`).join(' ')} } ${fragments(31, () => engines)}`, repeated('engines')],
    ['fragments selecting one 8 times each, 4 of them spread', `query { ...F0 ...F1 ...F2 ...F3 } ${fragments(4, () => times(engines, 8))}`, repeated('engines')],
    ['a fragment spread in many places counts once per place', `query { ${Array.from({ length: 40 }, (_, i) => `a${i}: engines { ...F0 }`).join(' ')} } ${fragments(1, () => times('nodes { id }', 30))}`, undefined],
    ['fragments spreading fragments', `query { ...F1 } fragment F1 on Query { ...F2 ...F3 } fragment F2 on Query { ${times(engines, 16)} } fragment F3 on Query { ${times(engines, 16)} }`, repeated('engines')],
    ['a fragment reached by several paths, once', `query { ...A } fragment A on Query { ...B ...C } fragment B on Query { ...D } fragment C on Query { ...D } fragment D on Query { ${times(engines, 20)} }`, undefined],
    ['same-named fields whose fragments bring same-named fields: 10 × 10', siblings(10, 10), undefined],
    ['20 × 20: the pairs graphql-js would compare multiply past the budget', siblings(20, 20), 'The document needs more field comparisons than validation may make.'],
    ['a fragment cycle (invalid) ends', `query { ...F0 } fragment F0 on Query { ...F1 } fragment F1 on Query { ...F0 __typename }`, undefined],
    [
      'a fragment of many fields spread at every level of a deep nesting: past the budget',
      `{ ${'a { ...F '.repeat(150)}${'}'.repeat(150)} } fragment F on Q { ${Array.from({ length: 900 }, (_, i) => `t${i}`).join(' ')} }`,
      'The document spreads its fragments in too many places to be checked.',
    ],
  ])('%s', (_name, query, expected) => {
    expect(selectionSetExcess(parse(query))).toBe(expected);
  });
});
