import {
  Kind,
  type ConstArgumentNode,
  type ConstDirectiveNode,
  type ConstValueNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
} from 'graphql';
import { DEFAULT_PAGE_SIZE } from '../../config/loadConfig';
import { connectionCallBudget } from '../../pagination/resolveConnection';
import { FETCHING_FIELDS, type FetchingField } from '../fetchingFields';

/**
 * The cost directives of Federation 2.9 (`@cost`, `@listSize`, from the IBM GraphQL cost
 * specification) that a router's demand control reads, written into the subgraph SDL from the
 * fetching-fields table, so that a router estimates what the gateway estimates: CSE calls.
 *
 * - An object type costs nothing by itself (`@cost(weight: 0)`): only fields that call CSE do.
 *   The routers' default would count every object as 1, so that a page of 20 engines would cost
 *   21 where it costs one list call.
 * - A field that makes one call: `@cost(weight: 1)` (an upper bound for `Job.engine`, which is
 *   free under its own engine).
 * - A page: `@cost(weight: 1)` and `@listSize` — its `nodes` and `edges` hold as many items as the
 *   first slicing argument given says, or the default page size when neither is. The page calls
 *   that `last` and the cursors add to the connection's call budget (pagination/resolveConnection)
 *   are `@cost` on those arguments, which a router adds when they are given: exact for one of
 *   them, more than the budget for two (the budget of both cursors is less than their sum).
 * - `_entities` is @apollo/subgraph's and has no declaration: a router prices the fetches it
 *   plans itself, and the gateway still refuses a fetch over its own budget (QUERY_TOO_COMPLEX).
 */

/** The object types that are operations' roots: their fields carry the cost, not the type. */
const ROOT_TYPES: ReadonlySet<string> = new Set(['Query', 'Mutation', 'Subscription']);

/** The list fields of a connection that a page's size counts. */
export const SIZED_FIELDS: readonly string[] = ['edges', 'nodes'];

/**
 * What each connection argument adds to the page calls of a plain `first` when it is given,
 * from the connection's own call budget.
 */
export function connectionArgumentCosts(): Readonly<Record<'last' | 'after' | 'before', number>> {
  const plain = connectionCallBudget({ direction: 'forward', after: false, before: false });
  return {
    last: connectionCallBudget({ direction: 'backward', after: false, before: false }) - plain,
    after: connectionCallBudget({ direction: 'forward', after: true, before: false }) - plain,
    before: connectionCallBudget({ direction: 'forward', after: false, before: true }) - plain,
  };
}

/** The directives the SDL carries for one fetching field, in the order they are written. */
export function costDirectivesOf(field: FetchingField): ConstDirectiveNode[] {
  const { cost } = field;
  switch (cost.calls) {
    case 'one':
      return [directive('cost', { weight: 1 })];
    case 'page':
      return [
        directive('cost', { weight: 1 }),
        directive('listSize', {
          assumedSize: DEFAULT_PAGE_SIZE,
          slicingArguments: [...cost.slicingArguments],
          sizedFields: [...SIZED_FIELDS],
          requireOneSlicingArgument: false,
        }),
      ];
    case 'entities':
      return [];
  }
}

/**
 * `document` with the cost directives added: to each fetching field of the table, and
 * `@cost(weight: 0)` to every object type that is not a root. The `@link` of schema/ imports
 * `@cost` and `@listSize` (federation v2.9).
 */
export function withCostDirectives(document: DocumentNode, table: typeof FETCHING_FIELDS = FETCHING_FIELDS): DocumentNode {
  const definitions = document.definitions.map((definition) => {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) return definition;
    const typeName = definition.name.value;
    const fields = definition.fields?.map((field): FieldDefinitionNode => {
      const declared = table[`${typeName}.${field.name.value}` as keyof typeof table];
      if (declared === undefined) return field;
      const argumentCosts: Readonly<Record<string, number>> = declared.cost.calls === 'page' ? connectionArgumentCosts() : {};
      const args = field.arguments?.map((arg) => {
        const weight = argumentCosts[arg.name.value];
        return weight === undefined || weight === 0 ? arg : { ...arg, directives: [...(arg.directives ?? []), directive('cost', { weight })] };
      });
      return { ...field, arguments: args, directives: [...(field.directives ?? []), ...costDirectivesOf(declared)] };
    });
    const typeDirectives =
      definition.kind === Kind.OBJECT_TYPE_DEFINITION && !ROOT_TYPES.has(typeName) ? [...(definition.directives ?? []), directive('cost', { weight: 0 })] : definition.directives;
    return { ...definition, directives: typeDirectives, fields } as ObjectTypeDefinitionNode | ObjectTypeExtensionNode;
  });
  return { ...document, definitions };
}

type Argument = number | boolean | readonly string[];

function directive(name: string, args: Record<string, Argument>): ConstDirectiveNode {
  return {
    kind: Kind.DIRECTIVE,
    name: { kind: Kind.NAME, value: name },
    arguments: Object.entries(args).map(([argName, value]): ConstArgumentNode => ({ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: argName }, value: valueNode(value) })),
  };
}

function valueNode(value: Argument): ConstValueNode {
  if (typeof value === 'number') return { kind: Kind.INT, value: String(value) };
  if (typeof value === 'boolean') return { kind: Kind.BOOLEAN, value };
  return { kind: Kind.LIST, values: value.map((item) => ({ kind: Kind.STRING, value: item })) };
}
