import { composeServices } from '@apollo/composition';
import fc from 'fast-check';
import { Kind, parse, print, type ConstDirectiveNode, type DocumentNode, type ObjectTypeDefinitionNode } from 'graphql';
import { FETCHING_FIELDS } from '../../src/graphql/fetchingFields';
import { connectionArgumentCosts, withCostDirectives } from '../../src/graphql/federation/costDirectives';
import { connectionCallBudget } from '../../src/pagination/resolveConnection';
import { loadTypeDefs } from '../../src/graphql/buildSchema';
import { printGatewaySubgraphSdl } from '../../src/tools/printSchema';

/**
 * The subgraph SDL declares what each field costs the upstream with the cost directives of
 * Federation 2.9, written from graphql/fetchingFields: a router's demand control and the
 * gateway's own estimate read the same facts.
 */

const COST_DIRECTIVES = new Set(['cost', 'listSize']);
const PAGE = '@cost(weight: 1) @listSize(assumedSize: 20, slicingArguments: ["first", "last"], sizedFields: ["edges", "nodes"], requireOneSlicingArgument: false)';

/** What each row of the table must read as in the SDL (`_entities` is @apollo/subgraph's, priced by the router). */
const EXPECTED: Record<string, string> = {
  'Query.engine': '@cost(weight: 1)',
  'Query.engines': PAGE,
  'Query.job': '@cost(weight: 1)',
  'Engine.latestJob': '@cost(weight: 1)',
  'Engine.jobs': PAGE,
  'Job.engine': '@cost(weight: 1)',
};
const UNDECLARED = new Set(['Query._entities']);

/** The page calls `last` and the cursors add: `@cost` on those arguments of both connections. */
const ARGUMENTS: Record<string, string> = Object.fromEntries(
  ['Query.engines', 'Engine.jobs'].flatMap((field) => [
    [`${field}(last:)`, '@cost(weight: 2)'],
    [`${field}(after:)`, '@cost(weight: 5)'],
    [`${field}(before:)`, '@cost(weight: 5)'],
  ]),
);

/**
 * `Type.field` (and `Type.field(arg:)`) → its cost directives as printed, for every field and
 * argument of `document` that has any.
 */
function costsOf(document: DocumentNode): Map<string, string> {
  const costs = new Map<string, string>();
  const note = (key: string, directives: readonly ConstDirectiveNode[] | undefined) => {
    const ours = (directives ?? []).filter((d) => COST_DIRECTIVES.has(d.name.value));
    if (ours.length > 0) costs.set(key, ours.map((d) => print(d)).join(' '));
  };
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    for (const field of definition.fields ?? []) {
      note(`${definition.name.value}.${field.name.value}`, field.directives);
      for (const arg of field.arguments ?? []) note(`${definition.name.value}.${field.name.value}(${arg.name.value}:)`, arg.directives);
    }
  }
  return costs;
}

function typeCosts(document: DocumentNode): Map<string, string> {
  const costs = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    const directives = (definition.directives ?? []).filter((d: ConstDirectiveNode) => COST_DIRECTIVES.has(d.name.value));
    costs.set(definition.name.value, directives.map((d) => print(d)).join(' '));
  }
  return costs;
}

const subgraph = parse(printGatewaySubgraphSdl());

it('imports the cost directives of federation v2.9', () => {
  expect(printGatewaySubgraphSdl()).toContain('@link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@cost", "@listSize"])');
});

describe('every fetching field of the table carries its cost directives in the subgraph SDL, and no other field does', () => {
  const costs = costsOf(subgraph);
  it.each(Object.keys(FETCHING_FIELDS).filter((coordinate) => !UNDECLARED.has(coordinate)))('%s', (coordinate) => {
    expect(costs.get(coordinate)).toBe(EXPECTED[coordinate]);
  });

  it('the table has no row this test does not know (a new row needs its expected directives here)', () => {
    expect(Object.keys(FETCHING_FIELDS).sort()).toEqual([...Object.keys(EXPECTED), ...UNDECLARED].sort());
  });

  it("a page's last, after and before carry what they add to its call budget", () => {
    for (const [coordinate, expected] of Object.entries(ARGUMENTS)) expect([coordinate, costs.get(coordinate)]).toEqual([coordinate, expected]);
  });

  it('no field or argument outside the table has a cost directive', () => {
    expect([...costs.keys()].sort()).toEqual([...Object.keys(EXPECTED), ...Object.keys(ARGUMENTS)].sort());
  });
});

describe("a router's cost for one page, before what is under it: the field's weight and the weights of the arguments given", () => {
  const weights = connectionArgumentCosts();
  const routerCost = (args: { last: boolean; after: boolean; before: boolean }) =>
    1 + (args.last ? weights.last : 0) + (args.after ? weights.after : 0) + (args.before ? weights.before : 0);
  const budget = (args: { last: boolean; after: boolean; before: boolean }) =>
    connectionCallBudget({ direction: args.last ? 'backward' : 'forward', after: args.after, before: args.before });

  it('is never below the page calls the connection may make (its call budget)', () => {
    fc.assert(
      fc.property(fc.record({ last: fc.boolean(), after: fc.boolean(), before: fc.boolean() }), (args) => {
        expect(routerCost(args)).toBeGreaterThanOrEqual(budget(args));
      }),
    );
  });

  it.each([
    [{ last: false, after: false, before: false }, 1],
    [{ last: true, after: false, before: false }, 3],
    [{ last: false, after: true, before: false }, 6],
    [{ last: false, after: false, before: true }, 6],
  ])('is the budget exactly with at most one of them: %j → %i', (args, calls) => {
    expect([routerCost(args), budget(args)]).toEqual([calls, calls]);
  });
});

it('every object type but the roots costs nothing by itself: only the fields that call CSE do', () => {
  for (const [type, directives] of typeCosts(subgraph)) {
    if (type === 'Query' || type === 'Subscription' || type.startsWith('_')) expect([type, directives]).toEqual([type, '']);
    else expect([type, directives]).toEqual([type, '@cost(weight: 0)']);
  }
});

it('a row added to the table gets its directive (and one for a field missing from the SDL is caught above)', () => {
  const withRow = withCostDirectives(parse(loadTypeDefs()), { ...FETCHING_FIELDS, 'Engine.name': { cost: { calls: 'one' }, loadsEngine: false, freshness: 'engine' } });
  expect(costsOf(withRow).get('Engine.name')).toBe('@cost(weight: 1)');
});

describe('composed into a supergraph with @apollo/composition', () => {
  const other = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost"])
    type Query { deployments: [Deployment!]! @cost(weight: 1) }
    type Deployment { id: ID! engine: Engine }
    type Engine @key(fields: "id", resolvable: false) { id: ID! }
  `;
  const composed = composeServices([
    { name: 'cse', typeDefs: subgraph, url: 'http://cse.invalid/graphql' },
    { name: 'deployments', typeDefs: parse(other), url: 'http://deployments.invalid/graphql' },
  ]);

  it('composes, and the supergraph links the cost spec', () => {
    expect(composed.errors?.map((error) => error.message)).toBeUndefined();
    // `@cost` is the spec's own name: it needs no import.
    expect(composed.supergraphSdl).toContain('@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])');
  });

  it("keeps every fetching field's directives, as the table says", () => {
    const costs = costsOf(parse(composed.supergraphSdl!));
    for (const [coordinate, expected] of Object.entries({ ...EXPECTED, ...ARGUMENTS })) expect([coordinate, costs.get(coordinate)]).toEqual([coordinate, expected]);
    expect(costs.get('Query.deployments')).toBe('@cost(weight: 1)');
    const engine = parse(composed.supergraphSdl!).definitions.find((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === 'Engine');
    expect(engine?.directives?.map((d) => print(d))).toContain('@cost(weight: 0)');
  });
});
