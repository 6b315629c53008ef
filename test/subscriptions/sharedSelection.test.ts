import fc from 'fast-check';
import { buildSchema, execute, Kind, parse, print, validate, visit, type DocumentNode, type ExecutionResult, type FormattedExecutionResult } from 'graphql';
import { buildGatewaySchema } from '../../src/graphql/buildSchema';
import { fitsJson, project, sharedSelection } from '../../src/subscriptions/sharedSelection';

/**
 * The shared selection of a document, executed once and projected onto the document's own view,
 * answers exactly what executing the document itself answers; documents that differ only in
 * aliases (and operation name, order of their variables, fragments, whitespace) share one text.
 */

const schema = buildSchema(`
  type Query { t: T }
  type T { a: Int, b(x: Int, y: Int): Int, c: String!, bad: Int, t(x: Int): T, list(n: Int): [T] }
`);

interface Node { d: number }
const rootValue = { t: { d: 1 } };
const resolvers = {
  T: {
    a: (node: Node) => node.d,
    b: (node: Node, args: { x?: number; y?: number }) => node.d * 100 + (args.x ?? 7) * 10 + (args.y ?? 3),
    // Escapes and UTF-8: what the answer writes is more than the string's length.
    c: (node: Node) => `c\u0001"é${node.d}`,
    bad: () => {
      throw new Error('bad field');
    },
    t: (node: Node, args: { x?: number }) => ({ d: node.d * 10 + (args.x ?? 0) }),
    list: (node: Node, args: { n?: number }) => Array.from({ length: args.n ?? 2 }, (_, i) => ({ d: node.d * 10 + i })),
  },
};
for (const [field, resolve] of Object.entries(resolvers.T)) (schema.getType('T') as any).getFields()[field].resolve = resolve;

const run = (document: DocumentNode, variables?: Record<string, unknown>): FormattedExecutionResult =>
  JSON.parse(JSON.stringify(format(execute({ schema, document, rootValue, variableValues: variables }) as ExecutionResult)));
const format = (result: ExecutionResult) => ({ ...result, errors: result.errors?.map((error) => ({ message: error.message, locations: error.locations, path: error.path })) });

const alias = fc.option(fc.constantFrom('p', 'q', 'r', 's'), { nil: undefined });
const arg = fc.option(fc.constantFrom(1, 2), { nil: undefined });
const leaf = fc.tuple(alias, fc.constantFrom('a', 'c', 'b', 'b', 'bad', '__typename'), arg, arg).map(([as, name, x, y]) => {
  const args = name === 'b' ? [x === undefined ? '' : `x: ${x}`, y === undefined ? '' : `y: ${y}`].filter(Boolean).join(', ') : '';
  return `${as === undefined ? '' : `${as}: `}${name}${args === '' ? '' : `(${args})`}`;
});
const selection: fc.Memo<string> = fc.memo((depth) =>
  depth <= 1
    ? fc.array(leaf, { minLength: 1, maxLength: 3 }).map((items) => items.join(' '))
    : fc
        .array(
          fc.oneof(
            leaf,
            fc.tuple(alias, fc.constantFrom('t', 'list'), arg, selection(depth - 1)).map(
              ([as, name, n, inner]) => `${as === undefined ? '' : `${as}: `}${name}${n === undefined ? '' : name === 't' ? `(x: ${n})` : `(n: ${n})`} { ${inner} }`,
            ),
            selection(depth - 1).map((inner) => `... on T { ${inner} }`),
            selection(depth - 1).map((inner) => `... @include(if: $on) { ${inner} }`),
          ),
          { minLength: 1, maxLength: 3 },
        )
        .map((items) => items.join(' ')),
);
const documents = selection(3).map((inner) => `query Q($on: Boolean!) { t { ${inner} } }`);

/** The same document with every alias renamed to a fresh one, the operation renamed, and every response key made unique. */
function realiased(document: DocumentNode): DocumentNode {
  let n = 0;
  return visit(document, {
    OperationDefinition: (node) => ({ ...node, name: { kind: Kind.NAME, value: 'Other' } }),
    Field: (node) => ({ ...node, alias: { kind: Kind.NAME, value: `z${(n += 1)}` } }),
  });
}

describe('sharedSelection', () => {
  it('executed once and projected, answers what the document itself answers; realiased documents share its text', () => {
    fc.assert(
      fc.property(documents, fc.boolean(), (text, on) => {
        const document = parse(text);
        fc.pre(validate(schema, document).length === 0);
        const variables = { on };
        // Not shared when one field is asked for under two aliases (the table below).
        const shared = sharedSelection(schema, document, undefined, variables);
        if (shared === undefined) return;
        const own = run(document, variables);
        expect(withoutErrorOrder(project(run(shared.document, variables), shared.view))).toEqual(withoutErrorOrder(own));
        const other = realiased(document);
        const sharedOther = sharedSelection(schema, other, undefined, variables);
        if (sharedOther === undefined) return;
        expect(sharedOther.text).toBe(shared.text);
        expect(withoutErrorOrder(project(run(sharedOther.document, variables), sharedOther.view))).toEqual(withoutErrorOrder(run(other, variables)));
      }),
      { numRuns: 200 },
    );
  });

  it('bounded, refuses only a result whose JSON is past the bound, and answers any other whole', () => {
    fc.assert(
      fc.property(documents, fc.boolean(), fc.oneof(fc.double({ min: 0, max: 1.2, noNaN: true }), fc.constant(1)), (text, on, share) => {
        const document = parse(text);
        fc.pre(validate(schema, document).length === 0);
        const variables = { on };
        const shared = sharedSelection(schema, document, undefined, variables);
        if (shared === undefined) return;
        const result = run(shared.document, variables);
        const whole = project(result, shared.view);
        // What the bound counts: the data, and each error as written.
        const errors = whole.errors;
        const bytes = Buffer.byteLength(JSON.stringify(whole.data ?? null)) + Buffer.byteLength(JSON.stringify(errors ?? [])) - 2;
        const maxBytes = Math.floor(bytes * share);
        const bounded = project(result, shared.view, maxBytes);
        if (bytes <= maxBytes) expect(bounded).toEqual(whole);
        if (bounded === undefined) expect(bytes).toBeGreaterThan(maxBytes);
        else expect(bounded).toEqual(whole);
        // Counted exactly (data, and each error as written): the bound at one byte less refuses it.
        const exact = Buffer.byteLength(JSON.stringify(whole.data ?? null)) + (errors ?? []).reduce((n, error) => n + Buffer.byteLength(JSON.stringify(error)), 0);
        expect(project(result, shared.view, exact)).toEqual(whole);
        if (whole.data !== undefined && whole.data !== null) expect(project(result, shared.view, exact - 1)).toBeUndefined();
      }),
      { numRuns: 150 },
    );
  });

  it('stops at the bound: long aliases over a long list are not read past it', () => {
    const document = parse(`query { t { ${'k'.repeat(100)}: list(n: 1000) { ${'m'.repeat(100)}: a } } }`);
    const shared = sharedSelection(schema, document, undefined, undefined)!;
    const result = run(shared.document) as { data: { t: Record<string, unknown[]> } };
    const listKey = Object.keys(result.data.t)[0]!;
    let reads = 0;
    result.data.t[listKey] = new Proxy(result.data.t[listKey]!, { get: (target, key) => ((reads += 1), Reflect.get(target, key)) });
    // Each item writes 100 bytes of key more than the shared one: 10 KB holds fewer than 100 of them.
    expect(project(result, shared.view, 10_000)).toBeUndefined();
    expect(reads).toBeLessThan(400);
    expect(JSON.stringify(project(result, shared.view, 1_000_000)!.data).length).toBeGreaterThan(100_000);
  });

  it.each([
    ['aliases of one field with different selections (a failure under one would null the other)', 'query { t { p: t(x: 1) { a } q: t(x: 1) { a bad } } }'],
    ['one field under two aliases', 'query { t { p: a q: a } }'],
    ['the same, through a fragment', 'query { t { p: a ...F } } fragment F on T { q: a }'],
  ])('is not shared: %s', (_what, text) => {
    expect(sharedSelection(schema, parse(text), undefined, undefined)).toBeUndefined();
  });

  it('is shared: aliases of different fields, or of one field with different arguments', () => {
    expect(sharedSelection(schema, parse('query { t { p: a q: c r: b(x: 1) s: b(x: 2) } }'), undefined, undefined)).toBeDefined();
  });

  it("fitsJson: a result no view projects, measured exactly as written, and not past the bound", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const bytes = Buffer.byteLength(JSON.stringify(value));
        expect(fitsJson(value, bytes)).toBe(true);
        expect(fitsJson(value, bytes - 1)).toBe(false);
      }),
      { numRuns: 300 },
    );
    let reads = 0;
    const items = new Proxy(Array.from({ length: 1000 }, () => 'x'.repeat(1000)), { get: (target, key) => ((reads += 1), Reflect.get(target, key)) });
    expect(fitsJson({ data: { items } }, 10_000)).toBe(false);
    expect(reads).toBeLessThan(100);
  });

  it.each([
    ['aliases', 'subscription { engineJobEvents(engineId: "e") { kind job { id status } } }', 'subscription { x: engineJobEvents(engineId: "e") { k: kind j: job { i: id s: status } } }'],
    ['operation name, whitespace and comments', 'subscription { engineJobEvents(engineId: "e") { kind } }', '# watch\nsubscription   Watch {\n  engineJobEvents(engineId: "e") { kind }\n}'],
    ['fragments', 'subscription { engineJobEvents(engineId: "e") { kind job { id } } }', 'subscription { engineJobEvents(engineId: "e") { ...E } } fragment E on JobEvent { kind ... on JobEvent { job { id } } }'],
    ['field order', 'subscription { engineJobEvents(engineId: "e") { kind job { id status } } }', 'subscription { engineJobEvents(engineId: "e") { job { status id } kind } }'],
  ])('shares across %s', (_what, one, two) => {
    const gateway = buildGatewaySchema();
    expect(sharedSelection(gateway, parse(two), undefined, undefined)!.text).toBe(sharedSelection(gateway, parse(one), undefined, undefined)!.text);
  });

  it.each([
    ['arguments', 'subscription { engineJobEvents(engineId: "e") { kind } }', 'subscription { engineJobEvents(engineId: "f") { kind } }'],
    ['fields', 'subscription { engineJobEvents(engineId: "e") { kind } }', 'subscription { engineJobEvents(engineId: "e") { kind job { id } } }'],
  ])('does not share across %s', (_what, one, two) => {
    const gateway = buildGatewaySchema();
    expect(sharedSelection(gateway, parse(two), undefined, undefined)!.text).not.toBe(sharedSelection(gateway, parse(one), undefined, undefined)!.text);
  });

  it('gives each member its own keys and order, and errors at its own paths', () => {
    const document = parse('query { t { second: c first: bad x: t(x: 1) { a } } }');
    const shared = sharedSelection(schema, document, undefined, undefined)!;
    const projected = project(run(shared.document), shared.view);
    expect(JSON.stringify(projected.data)).toBe(JSON.stringify({ t: { second: 'c\u0001"é1', first: null, x: { a: 11 } } }));
    // Located where the member's own document asks for the field.
    expect(projected.errors).toEqual([{ message: 'bad field', locations: [{ line: 1, column: 23 }], path: ['t', 'first'] }]);
    expect(print(shared.document)).not.toContain('first');
  });
});

/** Errors compared as a set: the shared selection's field order is its own. */
function withoutErrorOrder(result: FormattedExecutionResult): unknown {
  // The data as text: the member's key order is part of what it is given.
  return { data: JSON.stringify(result.data), errors: result.errors?.map((error) => JSON.stringify(error)).sort() };
}
