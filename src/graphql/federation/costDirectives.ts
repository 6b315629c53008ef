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
 * The cost directives of Federation 2.9 (`@cost`, `@listSize`) a router's demand control reads,
 * written from the fetching-fields table so that a router counts what the gateway counts: CSE
 * calls. Objects cost 0 (a router's default of 1 would price a page of 20 engines at 21 where it
 * is one call); a fetching field 1; a page adds `@listSize`, and the extra calls `last` and the
 * cursors add to its call budget are `@cost` on those arguments (exact for one, more than the
 * budget for two). `_entities` is @apollo/subgraph's: the gateway still refuses a fetch over its
 * own budget.
 */

/** Roots: their fields carry the cost, not the type. */
const ROOT_TYPES: ReadonlySet<string> = new Set(['Query', 'Mutation', 'Subscription']);

/** What each connection argument adds to a plain `first`'s calls, from the call budget. */
export function connectionArgumentCosts(): Readonly<Record<'last' | 'after' | 'before', number>> {
  const plain = connectionCallBudget({ direction: 'forward', after: false, before: false });
  const extra = (direction: 'forward' | 'backward', after: boolean, before: boolean) =>
    connectionCallBudget({ direction, after, before }) - plain;
  return { last: extra('backward', false, false), after: extra('forward', true, false), before: extra('forward', false, true) };
}

/** The directives the SDL carries for one fetching field. */
function costDirectivesOf({ cost }: FetchingField): ConstDirectiveNode[] {
  if (cost.calls === 'entities') return [];
  if (cost.calls === 'one') return [directive('cost', { weight: 1 })];
  const listSize = {
    assumedSize: DEFAULT_PAGE_SIZE,
    slicingArguments: [...cost.slicingArguments],
    sizedFields: ['edges', 'nodes'],
    requireOneSlicingArgument: false,
  };
  return [directive('cost', { weight: 1 }), directive('listSize', listSize)];
}

/** `document` with the cost directives (imported by the `@link` of schema/). */
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
  const argument = ([argName, value]: [string, Argument]): ConstArgumentNode => ({
    kind: Kind.ARGUMENT,
    name: { kind: Kind.NAME, value: argName },
    value: valueNode(value),
  });
  return { kind: Kind.DIRECTIVE, name: { kind: Kind.NAME, value: name }, arguments: Object.entries(args).map(argument) };
}

function valueNode(value: Argument): ConstValueNode {
  if (typeof value === 'number') return { kind: Kind.INT, value: String(value) };
  if (typeof value === 'boolean') return { kind: Kind.BOOLEAN, value };
  return { kind: Kind.LIST, values: value.map((item) => ({ kind: Kind.STRING, value: item })) };
}
