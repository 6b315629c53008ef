import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { getLocation, parse, specifiedRules, validate, type DocumentNode, type Location } from 'graphql';
import { loadConfig } from '../../src/config/loadConfig';
import { buildGatewaySchema } from '../../src/graphql/buildSchema';
import { DocumentStore } from '../../src/graphql/documentStore';
import { documentShape } from '../../src/graphql/execution/documentShape';
import { createAdmission } from '../../src/security/admission';
import { securityValidationRules } from '../../src/security/validationRules';
import { SEED } from '@cse-jobs-gateway/simulator';
import { startHarness, type Harness } from '../support/harness';
import { eventually, protocolSocket } from '../support/liveClient';
import { postJson } from './http';

const schema = buildGatewaySchema();

describe('one admission for HTTP and WebSocket', () => {
  const engineId = SEED.engines.onePage;
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ LOG_LEVEL: 'silent' });
  });
  afterAll(() => h.close());

  const deep = `subscription { jobUpdated(engineId: "${engineId}", id: "1") { engine { latestJob { engine { latestJob { engine { latestJob { engine { latestJob { engine { latestJob { engine { id } } } } } } } } } } } } }`;
  const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: id`).join(' ');
  const spreads = Array.from({ length: 101 }, (_, i) => `...F${i}`).join(' ');
  const fragments = Array.from({ length: 101 }, (_, i) => `fragment F${i} on Job { id }`).join(' ');
  it.each([
    ['a document that does not parse', 'subscription {', {}, undefined, 'GRAPHQL_PARSE_FAILED'],
    ['an unknown field', 'subscription { nope }', {}, undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['depth', deep, {}, undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['aliases', `subscription { jobUpdated(engineId: "${engineId}", id: "1") { ${aliases} } }`, {}, undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['an alias of 129 characters', `subscription { jobUpdated(engineId: "${engineId}", id: "1") { ${'a'.repeat(129)}: id } }`, {}, undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['@defer', `subscription { engineJobEvents(engineId: "${engineId}") { kind ... @defer { job { id } } } }`, {}, undefined, 'DEFER_NOT_SUPPORTED'],
    ['@include on the root field, with a variable', `subscription S($i: Boolean!) { engineJobEvents(engineId: "${engineId}") @include(if: $i) { kind } }`, { i: false }, undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['@skip(if: true) on the root field', `subscription { engineJobEvents(engineId: "${engineId}") @skip(if: true) { kind } }`, {}, undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['an operation name the document lacks', `subscription A { engineJobEvents(engineId: "${engineId}") { kind } }`, {}, 'B', 'OPERATION_RESOLUTION_FAILURE'],
    ['two operations and no name', 'query A { __typename } query B { __typename }', {}, undefined, 'OPERATION_RESOLUTION_FAILURE'],
    ['one field selected 31 times', `subscription { jobUpdated(engineId: "${engineId}", id: "1") { ${'engine { id } '.repeat(31)} } }`, {}, undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['101 fragments spread in one selection set', `subscription { jobUpdated(engineId: "${engineId}", id: "1") { ${spreads} } } ${fragments}`, {}, undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['upstream calls', `subscription { jobUpdated(engineId: "${engineId}", id: "1") { engine { jobs(first: 60) { nodes { engine { latestJob { id } } } } } } }`, {}, undefined, 'QUERY_TOO_COMPLEX'],
    ['items per event', `subscription { engineJobEvents(engineId: "${engineId}") { job { engine { jobs(first: 30) { nodes { id } } } } } }`, {}, undefined, 'QUERY_TOO_COMPLEX'],
  ])('%s: the same code, message and extensions over both, before any upstream call', async (_name, query, variables, operationName, code) => {
    const calls = h.simulator.callCount();
    const overHttp = await postJson(h.gateway.url, { query, variables, operationName });
    expect(overHttp.status).toBe(200);
    const socket = await protocolSocket(h.gateway.url);
    socket.burst([{ type: 'subscribe', id: '1', payload: { query, variables, operationName } }]);
    await eventually(() => socket.received.length > 0, 'an answer for the subscribe');
    socket.socket.close();
    expect(socket.received[0]).toMatchObject({ type: 'error', id: '1' });
    const [httpError] = overHttp.json().errors;
    const [socketError] = socket.received[0].payload;
    expect(httpError.extensions.code).toBe(code);
    expect({ message: socketError.message, extensions: socketError.extensions }).toEqual({ message: httpError.message, extensions: httpError.extensions });
    expect(h.simulator.callCount()).toBe(calls);
  });

  it('refuses a field selected more than 30 times in one selection set before anything validates it', async () => {
    // An unknown field too: validation would answer it (after comparing every pair of the 31).
    const response = await postJson(h.gateway.url, { query: `{ engines(first: 1) { ${'nodes { id } '.repeat(31)} nope } }` });
    expect(response.status).toBe(200);
    expect(response.json().errors.map((error: { message: string }) => error.message)).toEqual(['"nodes" is selected more than 30 times in one selection set.']);
  });

  it('only the operation type differs: each transport says which one serves it', async () => {
    const query = `subscription { engineJobEvents(engineId: "${engineId}") { kind } }`;
    const overHttp = (await postJson(h.gateway.url, { query })).json().errors[0];
    const socket = await protocolSocket(h.gateway.url);
    socket.burst([{ type: 'subscribe', id: '1', payload: { query: '{ __typename }' } }]);
    await eventually(() => socket.received.length > 0, 'an answer for the subscribe');
    socket.socket.close();
    expect(overHttp).toMatchObject({ extensions: { code: 'OPERATION_NOT_SUPPORTED', operationType: 'subscription' }, message: expect.stringMatching(/WebSocket/) });
    expect(socket.received[0].payload[0]).toMatchObject({ extensions: { code: 'OPERATION_NOT_SUPPORTED', operationType: 'query' }, message: expect.stringMatching(/HTTP/) });
  });
});

/**
 * Validation by shape must accept exactly the documents full validation accepts: whatever the
 * literals, in whatever order documents of a shape arrive (the first one of a shape is validated
 * in full, the later ones against the literal rules only).
 */

/** Shapes with slots for literals, as clients write them: valid, invalid, conflicting, introspecting. */
const TEMPLATES = [
  '{ engine(id: $1) { id jobs(first: $2, after: $3) { totalCount } } }',
  '{ a: engine(id: $1) { id } a: engine(id: $2) { id } }',
  '{ engines(first: $1) { nodes { jobs(last: $2, filter: { from: $3, to: $4 }) { totalCount } } } }',
  'query Q($n: Int = 5) { engines(first: $n) { totalCount } e: engine(id: $1) { name } }',
  '{ job(engineId: $1, id: $2) { id tasks { order } } }',
  '{ __schema { queryType { name } } engine(id: $1) { id } }',
  '{ engine(id: $1) { ...E } } fragment E on Engine { jobs(first: $2) { nodes { id } } latestJob { id } }',
  '{ engines(first: $1, last: $2) { totalCount } }',
  '{ engine(id: $1) @skip(if: true) { id } }',
];

const literal = fc.oneof(
  fc.integer({ min: -5, max: 150 }).map(String),
  fc.constantFrom('2147483648', '99999999999999999999', '0', '20'),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((n) => (Number.isInteger(n) ? `${n}.5` : String(n))).filter((t) => /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(t)),
  fc.constantFrom('"e1"', '"big-engine"', '"../x"', '"2024-01-01T00:00:00Z"', '"not a date"', '"12"', '""', '"2021-11-10T10:28:15.901+08:00"'),
  fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)),
);

const DOCUMENT_CODES = ['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED'];

/** A document as JSON, each location as its offsets, line and column, and the start's as graphql-jit reads them. */
function located(document: DocumentNode): unknown {
  return JSON.parse(
    // The holder's own, before graphql-js's `Location.toJSON`.
    JSON.stringify(document, function (this: { loc?: Location }, key, value: unknown) {
      if (key !== 'loc' || this.loc === undefined) return value;
      const { start, end, source, startToken } = this.loc;
      return { start, end, ...getLocation(source, start), startToken: { line: startToken.line, column: startToken.column } };
    }),
  );
}

describe('the document store keeps only what admission admitted', () => {
  it('keeps an admitted document from its second sight, and no refused one, however often or large', async () => {
    const store = new DocumentStore(64 * 1024);
    const admission = createAdmission(loadConfig({}), schema, store);
    const kept = `{ engine(id: "${SEED.engines.big}") { id } }`;
    const keptHash = createHash('sha256').update(kept).digest('hex');
    for (let i = 0; i < 2; i += 1) {
      expect(Array.isArray(admission.admit({ query: kept }, 'http'))).toBe(false);
      // As Apollo does next: takes the hand-off.
      await store.get(`schema:${keptHash}`);
    }
    expect(store.byHash(keptHash)).toBeDefined();
    // Each valid, each refused (a query over WebSocket, a cost past the limit), each a quarter of the store.
    const refused = (i: number) => [
      `{ engines(first: 1) { totalCount } } # ${i} ${'x'.repeat(1_500)}`,
      `{ engines(first: 100) { nodes { jobs(first: 100) { totalCount } } } } # ${i} ${'x'.repeat(1_500)}`,
    ];
    for (let i = 0; i < 20; i += 1) {
      const [query, costly] = refused(i);
      for (let twice = 0; twice < 2; twice += 1) {
        expect(Array.isArray(admission.admit({ query: query! }, 'websocket'))).toBe(true);
        expect(Array.isArray(admission.admit({ query: costly! }, 'http'))).toBe(true);
      }
    }
    expect(store.byHash(keptHash)).toBeDefined();
  });
});

describe("what admission tells an operation's budget", () => {
  it('is the connection items and representations its answer holds at worst: a page, or many aliases of it', () => {
    const admission = createAdmission(loadConfig({}), schema, new DocumentStore(64 * 1024));
    const itemsOf = (query: string) => (admission.admit({ query }, 'http') as { items: number }).items;
    const page = (alias: string) => `${alias}: jobs(first: 100) { nodes { id } edges { node { id } } }`;
    expect(itemsOf(`{ engine(id: "${SEED.engines.big}") { ${page('a')} } }`)).toBe(100);
    expect(itemsOf(`{ engine(id: "${SEED.engines.big}") { ${Array.from({ length: 29 }, (_, i) => page(`a${i}`)).join(' ')} } }`)).toBe(2900);
    const entities = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Engine { id } } }`;
    const representations = Array.from({ length: 3 }, (_, i) => ({ __typename: 'Engine', id: `a000000${i}-0000-4000-8000-000000000001` }));
    expect((admission.admit({ query: entities, variables: { r: representations } }, 'http') as { items: number }).items).toBe(3);
  });
});

describe('the document store charges a document its syntax nodes and its text', () => {
  it('so a comment costs its characters once (twice when wide), string values theirs, and nodes what they hold', async () => {
    const store = new DocumentStore(64 * 1024);
    // Room for the 250 aliases below: the charge is the subject here, not MAX_ALIASES.
    const admission = createAdmission(loadConfig({ MAX_ALIASES: '1000' }), schema, store);
    const admitTwice = async (query: string) => {
      const hash = createHash('sha256').update(query).digest('hex');
      for (let i = 0; i < 2; i += 1) {
        expect(Array.isArray(admission.admit({ query }, 'http'))).toBe(false);
        await store.get(`schema:${hash}`);
      }
      return store.byHash(hash) !== undefined;
    };
    // 40,000 characters of comment: kept (charged about 40 KB, not 12 bytes a character).
    expect(await admitTwice(`{ engines(first: 1) { totalCount } } # ${'x'.repeat(40_000)}`)).toBe(true);
    // The same in a character past U+00FF: V8 holds the whole text at two bytes a character.
    expect(await admitTwice(`{ engines(first: 1) { totalCount } } # ${'\u0100'.repeat(40_000)}`)).toBe(false);
    // A block string's value is a string of its own, beside the text: 2 × 20,000 characters and more.
    const block = `"${'""'}${'x'.repeat(99).concat('\n').repeat(200)}"${'""'}`;
    expect(await admitTwice(`query B($x: ID = ${block}) { engine(id: $x) { id } } # ${'y'.repeat(35_000)}`)).toBe(false);
    // 250 aliased fields in 6,000 characters: over 1,000 nodes at 280 bytes each, more than the store.
    const wide = Array.from({ length: 250 }, (_, i) => `a${i}: __typename`).join(' ');
    expect(await admitTwice(`{ ${wide} }`)).toBe(false);
  });
});

describe.each([true, false])('validation by shape (introspection %s)', (introspection) => {
  const config = loadConfig({ ENABLE_INTROSPECTION: String(introspection) });
  const fullRules = [...specifiedRules, ...securityValidationRules({ maxDepth: 12, maxAliases: 30, maxAliasLength: 128, enableIntrospection: introspection })];
  // Each refused literal builds an error, and with it a stack nobody here reads: under Jest every
  // stack is source-mapped, a large part of this property's time.
  const stackTraceLimit = Error.stackTraceLimit;
  beforeAll(() => {
    Error.stackTraceLimit = 0;
  });
  afterAll(() => {
    Error.stackTraceLimit = stackTraceLimit;
  });

  it('accepts a document exactly when every rule does, whatever came before it', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(TEMPLATES.length - 1), fc.array(literal, { minLength: 4, maxLength: 4 })), { minLength: 1, maxLength: 25 }), (asks) => {
        const admission = createAdmission(config, schema, new DocumentStore(1 << 24));
        for (const [template, literals] of asks) {
          const source = TEMPLATES[template]!.replace(/\$(\d)/g, (_, i: string) => literals[Number(i) - 1]!);
          let expected: boolean;
          try {
            expected = validate(schema, parse(source), fullRules).length === 0;
          } catch {
            expected = false;
          }
          const verdict = admission.admit({ query: source }, 'http');
          const accepted = !Array.isArray(verdict) || !verdict.some((error) => DOCUMENT_CODES.includes(error.extensions.code as string));
          expect({ source, accepted }).toEqual({ source, accepted: expected });
          // graphql-js's document, every location the same, without the tokens.
          if (Array.isArray(verdict)) continue;
          expect(located(verdict.document)).toEqual(located(parse(source)));
          expect(verdict.document.loc).not.toHaveProperty('endToken');
          // Data, not a getter that counts the lines before it at every read; and no source in the JSON.
          expect(Object.getOwnPropertyDescriptor(verdict.document.loc, 'startToken')).toHaveProperty('value');
          expect(JSON.stringify(verdict.document)).toBe(JSON.stringify(parse(source)));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('documentShape', () => {
  it('is the same for documents that differ only in Int, Float and String literals, and lists those literals', () => {
    const a = documentShape(parse('{ engine(id: "a") { jobs(first: 5, after: "c1") { totalCount } } }'));
    const b = documentShape(parse('{ engine(id: "bb") { jobs(first: 17, after: "c22") { totalCount } } }'));
    expect(a.key).toBe(b.key);
    expect(b.literals.map((node) => node.value)).toEqual(['bb', '17', 'c22']);
  });

  it.each([
    ['an alias', '{ e: engine(id: "a") { id } }', '{ f: engine(id: "a") { id } }'],
    ['a literal kind', '{ engines(first: 5) { totalCount } }', '{ engines(first: "5") { totalCount } }'],
    ['a boolean', '{ engine(id: "a") @skip(if: true) { id } }', '{ engine(id: "a") @skip(if: false) { id } }'],
    ['a variable default', 'query ($n: Int = 5) { engines(first: $n) { totalCount } }', 'query ($n: Int = 6) { engines(first: $n) { totalCount } }'],
    ['an argument name', '{ engines(first: 5) { totalCount } }', '{ engines(last: 5) { totalCount } }'],
    ['an input field name', '{ engine(id: "a") { jobs(filter: { from: "x" }) { totalCount } } }', '{ engine(id: "a") { jobs(filter: { to: "x" }) { totalCount } } }'],
    ['a fragment name', '{ engine(id: "a") { ...A } } fragment A on Engine { id }', '{ engine(id: "a") { ...B } } fragment B on Engine { id }'],
    ['an operation type', 'query { __typename }', 'mutation { __typename }'],
  ])('tells documents apart that differ in %s', (_what, a, b) => {
    expect(documentShape(parse(a)).key).not.toBe(documentShape(parse(b)).key);
  });
});
