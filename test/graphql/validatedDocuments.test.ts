import fc from 'fast-check';
import { parse, specifiedRules, validate } from 'graphql';
import { buildGatewaySchema } from '../../src/graphql/buildSchema';
import { documentShape } from '../../src/graphql/execution/documentShape';
import { createShapeValidator, NoIntrospectionRule } from '../../src/graphql/validatedDocuments';
import { securityValidationRules } from '../../src/security/validationRules';

/**
 * Validation by shape must accept exactly the documents full validation accepts: whatever the
 * literals, in whatever order documents of a shape arrive (the first one of a shape is validated
 * in full, the later ones against the literal rules only).
 */

const schema = buildGatewaySchema();

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

describe.each([true, false])('createShapeValidator (introspection %s)', (introspection) => {
  const rules = securityValidationRules({ maxDepth: 12, maxAliases: 30, introspection });
  const fullRules = [...specifiedRules, ...(introspection ? [] : [NoIntrospectionRule]), ...rules];

  it('accepts a document exactly when every rule does, whatever came before it', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(TEMPLATES.length - 1), fc.array(literal, { minLength: 4, maxLength: 4 })), { minLength: 1, maxLength: 25 }), (asks) => {
        const validated = createShapeValidator({ schema, rules, introspection, maxTokens: 2000, maxShapes: 100 });
        for (const [template, literals] of asks) {
          const source = TEMPLATES[template]!.replace(/\$(\d)/g, (_, i: string) => literals[Number(i) - 1]!);
          let expected: boolean;
          try {
            expected = validate(schema, parse(source), fullRules).length === 0;
          } catch {
            expected = false;
          }
          expect({ source, accepted: validated(source) !== undefined }).toEqual({ source, accepted: expected });
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
