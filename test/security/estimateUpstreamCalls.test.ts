import fc from 'fast-check';
import { getIntrospectionQuery, getOperationAST, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { GatewayError } from '../../src/errors/GatewayError';
import { buildGatewaySchema } from '../../src/graphql/buildSchema';
import { parseConnectionArgs } from '../../src/pagination/args';
import { coerceVariables, createEstimator } from '../../src/security/estimateUpstreamCalls';

const schema = buildGatewaySchema();
const options = { maxPageSize: 100, defaultPageSize: 20, engineListThreshold: 3, maxListPages: 10 };
/** Admission's estimator, given the variables as a request sends them. */
const rawEstimator = (settings: Parameters<typeof createEstimator>[1]) => {
  const estimate = createEstimator(schema, settings);
  return (document: DocumentNode, operation: OperationDefinitionNode, raw?: Record<string, unknown>) => estimate(document, operation, coerceVariables(schema, operation, raw));
};
const operationOf = (document: DocumentNode, name?: string) => getOperationAST(document, name)!;
const estimate = (query: string, variables?: Record<string, unknown>, operationName?: string) =>
  rawEstimator(options)(parse(query), operationOf(parse(query), operationName), variables).calls;

describe('createEstimator', () => {
  it.each([
    ['one engine', '{ engine(id: "e") { id name } }', undefined, 1],
    ['one job', '{ job(engineId: "e", id: "1") { id tasks { id } } }', undefined, 1],
    ['a list without nested calls', '{ engines(first: 100) { totalCount nodes { id name } } }', undefined, 1],
    ['the issue example: 1 + 100', '{ engines(first: 100) { nodes { jobs(first: 100) { nodes { id } } } } }', undefined, 101],
    ['default page size 20 when neither first nor last', '{ engines { nodes { jobs { totalCount } } } }', undefined, 21],
    ['last without before: up to 3 list calls (the head, then the tail), items as first', '{ engines(last: 7) { edges { node { latestJob { id } } } } }', undefined, 3 + 7],
    ['a cursor raises the list calls to its budget (cursors can be forged)', '{ engines(first: 7, after: "c") { nodes { id } } }', undefined, 6],
    ['both cursors', '{ engines(first: 7, after: "c", before: "d") { nodes { id } } }', undefined, 9],
    ['a null cursor is no cursor', 'query ($c: String) { engines(first: 7, after: $c) { nodes { id } } }', { c: null }, 1],
    ['edges.node and nodes both count', '{ engines(first: 5) { edges { node { latestJob { id } } } nodes { latestJob { id } } } }', undefined, 11],
    ['aliases multiply', '{ a: engine(id: "e") { id } b: engine(id: "e") { id } c: engine(id: "f") { id } }', undefined, 3],
    ['nested lists multiply', '{ engines(first: 10) { nodes { jobs(first: 10) { nodes { engine { latestJob { id } } } } } } }', undefined, 1 + 10 + 10 * 10],
    ['Job.engine is free under its own engine', '{ engine(id: "e") { jobs(first: 50) { nodes { engine { name } } } } }', undefined, 2],
    ['Job.engine costs a call under Query.job', '{ job(engineId: "e", id: "1") { engine { name } } }', undefined, 2],
    ['variables for first', 'query ($n: Int) { engines(first: $n) { nodes { latestJob { id } } } }', { n: 30 }, 31],
    ['a variable default', 'query ($n: Int = 4) { engines(first: $n) { nodes { latestJob { id } } } }', {}, 5],
    ['a null variable means the default page size', 'query ($n: Int) { engines(first: $n) { nodes { latestJob { id } } } }', { n: null }, 21],
    ['fragments', 'query { engines(first: 10) { ...E } } fragment E on EngineConnection { nodes { ...J } } fragment J on Engine { latestJob { id } }', undefined, 11],
    ['inline fragments', '{ engines(first: 10) { nodes { ... on Engine { latestJob { id } } } } }', undefined, 11],
    ['a refused first (above the maximum) costs nothing', '{ engines(first: 1000) { nodes { latestJob { id } } } }', undefined, 0],
    ['a refused first and last together cost nothing', '{ engines(first: 1, last: 1) { nodes { latestJob { id } } } }', undefined, 0],
    ['introspection is exempt', getIntrospectionQuery(), undefined, 0],
    ['_service is free', '{ _service { sdl } }', undefined, 0],
    ['__typename is free', '{ __typename }', undefined, 0],
  ])('%s', (_name, query, variables, expected) => {
    expect(estimate(query, variables)).toBe(expected);
  });

  it('estimates the named operation of a document with several', () => {
    const document = 'query A { engine(id: "e") { id } } query B { engines(first: 3) { nodes { latestJob { id } } } }';
    expect(estimate(document, undefined, 'A')).toBe(1);
    expect(estimate(document, undefined, 'B')).toBe(4);
  });

  describe('_entities', () => {
    const query = `query ($r: [_Any!]!) { _entities(representations: $r) {
      ... on Engine { jobs(first: 5) { nodes { id } } }
      ... on Job { engine { name } }
    } }`;
    const engines = (n: number) => Array.from({ length: n }, (_, i) => ({ __typename: 'Engine', id: `e${i}` }));
    const jobs = (n: number) => Array.from({ length: n }, (_, i) => ({ __typename: 'Job', engineId: 'e', id: String(i) }));

    it.each([
      ['three engines (at the threshold): one call each, plus their jobs', engines(3), 3 + 3],
      ['four engines (above it): worst case one more, for the list page', engines(4), 4 + 1 + 4],
      ['jobs: one call each, plus Job.engine', jobs(2), 2 + 2],
      ['both', [...engines(2), ...jobs(3)], 2 + 2 + 3 + 3],
      ['none', [], 0],
    ])('%s', (_name, representations, expected) => {
      expect(estimate(query, { r: representations })).toBe(expected);
    });

    it('counts the engine references of every `_entities` field as the one batch they load in', () => {
      // Two fields of 3 (the threshold each): alone 3 + 3, together 6 above it, so one more for the list page.
      const two = `query ($a: [_Any!]!, $b: [_Any!]!) { a: _entities(representations: $a) { ... on Engine { name } } b: _entities(representations: $b) { ... on Engine { name } } }`;
      expect(estimate(two, { a: engines(3), b: engines(3) })).toBe(7);
      expect(estimate(two, { a: engines(1), b: engines(2) })).toBe(3);
    });

    it.each([
      ['in a variable', query, { r: engines(5) }, 5],
      ['none', query, { r: [] }, 0],
      ['as a literal list', '{ _entities(representations: [{ __typename: "Engine", id: "a" }, { __typename: "Job", engineId: "e", id: "1" }]) { __typename } }', undefined, 2],
      ['a lone literal, coerced to a list of one', '{ _entities(representations: { __typename: "Engine", id: "a" }) { __typename } }', undefined, 1],
      ['every field, summed', 'query ($a: [_Any!]!, $b: [_Any!]!) { a: _entities(representations: $a) { __typename } ...B } fragment B on Query { b: _entities(representations: $b) { __typename } }', { a: engines(3), b: jobs(4) }, 7],
      ['variables that do not coerce: nothing runs', query, { r: null }, 0],
    ])('carries the representations %s', (_name, text, variables, expected) => {
      const document = parse(text);
      expect(rawEstimator(options)(document, operationOf(document), variables).representations).toBe(expected);
    });

    it.each([[[{ id: 'x' }]], [[{ __typename: 'Nope' }]], [['Engine']], [[{ __typename: 'Query' }]]])('refuses representations %j', (representations) => {
      expect(() => estimate(query, { r: representations })).toThrow(GatewayError);
    });
  });
});

describe('the items an operation renders (per event, for a subscription)', () => {
  const issue = `subscription { engineJobEvents(engineId: "e") { job { engine { jobs(first: 100) { nodes { id status tasks { id } } } } } } }`;
  it.each([
    ['a subscription without connections', 'subscription { engineJobEvents(engineId: "e") { kind job { id status tasks { id } } } }', undefined, { calls: 0, items: 0 }],
    ['the issue example: 2 calls, but 100 jobs rendered on every event', issue, undefined, { calls: 2, items: 100 }],
    ['the default page size', 'subscription { jobUpdated(engineId: "e", id: "1") { engine { jobs { totalCount } } } }', undefined, { calls: 2, items: 20 }],
    ['aliases multiply', 'subscription { engineJobEvents(engineId: "e") { job { engine { a: jobs(first: 5) { nodes { id } } b: jobs(first: 7) { nodes { id } } } } } }', undefined, { calls: 3, items: 12 }],
    ['nested connections multiply', '{ engines(first: 10) { nodes { jobs(first: 10) { nodes { id } } } } }', undefined, { calls: 11, items: 10 + 10 * 10 }],
    ['a page size from a variable', 'subscription ($n: Int) { jobUpdated(engineId: "e", id: "1") { engine { jobs(first: $n) { nodes { id } } } } }', { n: 3 }, { calls: 2, items: 3 }],
    ['in a fragment', 'subscription { engineJobEvents(engineId: "e") { job { engine { ...J } } } } fragment J on Engine { jobs(first: 30) { nodes { id } } }', undefined, { calls: 2, items: 30 }],
    ['a refused page renders nothing', 'subscription { jobUpdated(engineId: "e", id: "1") { engine { jobs(first: 1000) { nodes { id } } } } }', undefined, { calls: 1, items: 0 }],
    ['first: 0 renders nothing below it', '{ engines(first: 0) { nodes { jobs(first: 10) { nodes { id } } } } }', undefined, { calls: 1, items: 0 }],
  ])('%s', (_name, query, variables, expected) => {
    const estimateOf = rawEstimator(options);
    const document = parse(query);
    // Walked, then remembered: the same answer.
    for (const { calls, items } of [estimateOf(document, operationOf(document), variables), estimateOf(document, operationOf(document), variables)]) {
      expect({ calls, items }).toEqual(expected);
    }
  });
});

describe('the estimates remembered per document shape', () => {
  // One parsed document per text, reused across requests, as Apollo's document store does.
  const documents = [
    '{ engines(first: 7) { nodes { id latestJob { id } jobs(first: 5) { nodes { id } } } } }',
    'query ($id: ID!, $after: String) { engine(id: $id) { jobs(first: 20, after: $after) { nodes { engine { latestJob { id } } } } } }',
    'query ($n: Int) { engines(first: $n) { nodes { latestJob { id } } } }',
    'query ($n: Int = 4) { engines(last: $n) { nodes { latestJob { id } } } }',
    'query ($f: JobFilter, $n: Int) { engine(id: "e") { jobs(first: 3, filter: $f) { nodes { engine { latestJob { id } } } } } e2: engines(first: $n) { totalCount } }',
    'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Engine { jobs(first: 5) { nodes { id } } } } }',
    // Documents of one shape: their literals differ (a page size, a refused page, cursors, representations).
    '{ engines(first: 9) { nodes { id latestJob { id } jobs(first: 5) { nodes { id } } } } }',
    '{ engines(first: 7) { nodes { id latestJob { id } jobs(first: 500) { nodes { id } } } } }',
    '{ engine(id: "e") { jobs(first: 4, after: "c1") { nodes { engine { latestJob { id } } } } } }',
    '{ engine(id: "f") { jobs(first: 4, after: "c2") { nodes { engine { latestJob { id } } } } } }',
    '{ engine(id: "e") { jobs(last: 4, before: "c1") { nodes { engine { latestJob { id } } } } } }',
    '{ _entities(representations: [{ __typename: "Engine", id: "a" }]) { ... on Engine { jobs(first: 5) { nodes { id } } } } }',
    '{ _entities(representations: [{ __typename: "Nope", id: "a" }]) { ... on Engine { jobs(first: 5) { nodes { id } } } } }',
    '{ _entities(representations: [{ __typename: "Engine", id: "b" }]) { ... on Engine { jobs(first: 2) { nodes { id } } } } }',
    'query A { engine(id: "e") { id } } query B($skip: Boolean!) { engines(first: 3) { nodes { latestJob @skip(if: $skip) { id } } } }',
  ].map((text) => parse(text));
  const variableSets: Record<string, unknown>[] = [
    {},
    { id: 'e', after: 'c1', n: 2, skip: true, r: [{ __typename: 'Engine', id: 'a' }] },
    { id: 'f', after: 'c2', n: 50, skip: false, f: { from: '2024-01-01T00:00:00Z' }, r: [{ __typename: 'Engine', id: 'a' }, { __typename: 'Engine', id: 'b' }, { __typename: 'Engine', id: 'c' }, { __typename: 'Engine', id: 'd' }] },
    { n: 'not a number', skip: 'no', r: 'not a list' },
    { n: null, r: [] },
  ];

  it('always answer what a fresh walk answers, whatever the order of requests and variables', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(documents.length - 1), fc.nat(variableSets.length - 1), fc.constantFrom(undefined, 'A', 'B')), { minLength: 1, maxLength: 40 }), (asks) => {
        const memoized = rawEstimator(options);
        for (const [d, v, name] of asks) {
          // Admission estimates only an operation it found: the last document has two, named.
          const operation = operationOf(documents[d]!, d === documents.length - 1 ? (name ?? 'A') : undefined);
          const read = ({ calls, representations }: { calls: number; representations: number }) => ({ calls, representations });
          const direct = () => read(rawEstimator(options)(documents[d]!, operation, variableSets[v]));
          const remembered = () => read(memoized(documents[d]!, operation, variableSets[v]));
          let expected: ReturnType<typeof read> | string;
          try {
            expected = direct();
          } catch (error) {
            expected = (error as Error).message;
          }
          if (typeof expected === 'string') expect(remembered).toThrow(expected);
          else expect(remembered()).toEqual(expected);
        }
      }),
    );
  });
});

describe('the estimate pages as the resolvers do (one rule: pageOf)', () => {
  const value = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer({ min: -5, max: 130 }), fc.double({ noNaN: false }));
  const query = parse('query ($f: Int, $l: Int) { engines(first: $f, last: $l) { totalCount } }');
  it('counts the page parseConnectionArgs answers, and nothing for arguments it refuses', () => {
    fc.assert(
      fc.property(value, value, fc.integer({ min: 1, max: 120 }), (first, last, maxPageSize) => {
        const limits = { maxPageSize, defaultPageSize: 20 };
        const { items } = rawEstimator({ ...options, ...limits })(query, operationOf(query), { f: first, l: last });
        let parsed: { count: number } | undefined;
        try {
          parsed = parseConnectionArgs({ first: first as number | null | undefined, last: last as number | null | undefined }, { ...limits, key: 'k' });
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayError);
        }
        expect(items).toBe((parsed?.count ?? 0) + 0);
      }),
    );
  });
});
