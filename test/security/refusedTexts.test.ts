import { createHash } from 'node:crypto';
import { startHarness, type Harness } from '../support/harness';
import { postJson, send } from './http';

/**
 * A text admission refuses at parsing or validation is parsed and validated once, by admission:
 * Apollo takes the refusal from the document store in place of the text, instead of parsing and
 * validating it again to word the same errors. No token is needed to send one, so that second pass
 * would be work anyone could double. graphql-js's parser and validation are counted where every
 * caller reaches them (admission's parser extends `Parser`; Apollo calls `parse` and `validate`).
 */
const mockWork = { parses: 0, validations: 0 };
jest.mock('graphql/language/parser', () => {
  const actual = jest.requireActual('graphql/language/parser');
  class CountingParser extends actual.Parser {
    constructor(...args: unknown[]) {
      super(...args);
      mockWork.parses += 1;
    }
  }
  return { ...actual, Parser: CountingParser, parse: (...args: unknown[]) => ((mockWork.parses += 1), actual.parse(...args)) };
});
jest.mock('graphql/validation/validate', () => {
  const actual = jest.requireActual('graphql/validation/validate');
  return { ...actual, validate: (...args: unknown[]) => ((mockWork.validations += 1), actual.validate(...args)) };
});

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ LOG_LEVEL: 'silent' });
});
afterAll(() => h.close());

/** What one request cost in parses and validations, and its answer. */
async function counted(request: () => ReturnType<typeof send>) {
  const before = { ...mockWork };
  const response = await request();
  return { parses: mockWork.parses - before.parses, validations: mockWork.validations - before.validations, response };
}

const noToken = (body: unknown) => send(h.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** Unknown fields in an introspection-like document of about 10 KB. */
const unknownFields = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: schema { types { name kind fields { name args { name } type { name ofType { name } } } } }`).join(' ')} }`;

it.each<[string, string, number, number, string]>([
  ['unknown fields, each answered', unknownFields, 1, 1, 'GRAPHQL_VALIDATION_FAILED'],
  ['a document that does not parse', `${unknownFields} {`, 1, 0, 'GRAPHQL_PARSE_FAILED'],
  ['past the depth bound', `{ ${'engine(id: "e") { latestJob { '.repeat(7)} id ${'} } '.repeat(7)} }`, 1, 1, 'GRAPHQL_VALIDATION_FAILED'],
  // Answered from didResolveSource, as Apollo answered graphql-js's throw.
  ['a validation that throws', 'subscription S($s: Boolean!) { engineJobEvents(engineId: "e") @skip(if: $s) { kind } }', 1, 1, 'GRAPHQL_VALIDATION_FAILED'],
])('%s: one parse and at most one validation, no token needed', async (_name, query, parses, validations, code) => {
  // A new text each time (trailing blanks): nothing is found by its hash.
  for (let blanks = 1; blanks <= 2; blanks += 1) {
    const { response, ...work } = await counted(() => noToken({ query: query + ' '.repeat(blanks) }));
    expect(response.status).toBe(200);
    expect(new Set(response.json().errors.map((error: { extensions: { code: string } }) => error.extensions.code))).toEqual(new Set([code]));
    expect(work).toEqual({ parses, validations });
  }
});

it('answers as Apollo answers a document that fails: each error with its locations, before the credentials', async () => {
  const { response, ...work } = await counted(() => postJson(h.gateway.url, { query: '{ nope engines(first: 1) { nodes { nope } } }' }, { 'x-auth-token': 'made-up' }));
  expect(work).toEqual({ parses: 1, validations: 1 });
  expect(response.status).toBe(200);
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.text).toBe(
    JSON.stringify({
      errors: [
        { message: 'Cannot query field "nope" on type "Query".', locations: [{ line: 1, column: 3 }], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
        { message: 'Cannot query field "nope" on type "Engine". Did you mean "name" or "type"?', locations: [{ line: 1, column: 36 }], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
      ],
    }),
  );
});

it('registers no persisted query for a refused text, and counts its operation as unresolved', async () => {
  // Both requests: the first refused, the second not found.
  const metrics = async () => {
    const text = (await send(new URL('/metrics', h.gateway.url).href)).text;
    return Number(/^gateway_operations_total\{operation="\(unresolved\)",outcome="error"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  };
  const unresolved = await metrics();
  const query = '{ nope apq }';
  const persistedQuery = { version: 1, sha256Hash: sha256(query) };
  const registering = await postJson(h.gateway.url, { query, extensions: { persistedQuery } });
  expect(registering.json().errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  const byHash = await postJson(h.gateway.url, { extensions: { persistedQuery } });
  expect(byHash.json().errors.map((error: { extensions: { code: string } }) => error.extensions.code)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  expect(await metrics()).toBe(unresolved + 2);
});
