import {
  Kind,
  parseConstValue,
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
} from 'graphql';
import { DEFAULT_PAGE_SIZE } from '../../config/loadConfig';
import { connectionCallBudget } from '../../pagination/resolveConnection';
import { FETCHING_FIELDS, type FetchingField } from '../fetchingFields';

// Federation 2.9's `@cost`/`@listSize` from the fetching-fields table: routers count CSE calls as we do
// (docs/federation.md).

/** Roots: their fields carry the cost, not the type. */
const ROOT_TYPES: ReadonlySet<string> = new Set(['Query', 'Mutation', 'Subscription']);

/** What each connection argument adds to a plain `first`'s calls, from the call budget. */
export function connectionArgumentCosts(): Readonly<Record<'last' | 'after' | 'before', number>> {
  const plain = connectionCallBudget({ direction: 'forward', after: false, before: false });
  const extra = (direction: 'forward' | 'backward', after: boolean, before: boolean) =>
    connectionCallBudget({ direction, after, before }) - plain;
  return { last: extra('backward', false, false), after: extra('forward', true, false), before: extra('forward', false, true) };
}

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

/** JSON numbers, booleans and lists of strings are GraphQL values as they are written. */
function directive(name: string, args: Record<string, number | boolean | string[]>): ConstDirectiveNode {
  const argument = ([argName, value]: [string, unknown]) => ({
    kind: Kind.ARGUMENT as const,
    name: { kind: Kind.NAME as const, value: argName },
    value: parseConstValue(JSON.stringify(value), { noLocation: true }),
  });
  return { kind: Kind.DIRECTIVE, name: { kind: Kind.NAME, value: name }, arguments: Object.entries(args).map(argument) };
}
