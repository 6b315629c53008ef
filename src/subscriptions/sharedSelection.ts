import { createHash } from 'node:crypto';
import {
  astFromValue,
  getDirectiveValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isAbstractType,
  isCompositeType,
  isObjectType,
  Kind,
  print,
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type FormattedExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  valueFromAST,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { expandedFieldCount } from '../graphql/execution/expandedSize';

/**
 * Subscriptions that select the same fields with the same arguments are one execution per event,
 * whatever their aliases, operation names, fragments, variables or layout: each becomes a shared
 * selection (fields collected as execution collects them, arguments as the values they take, each
 * field under a key made from its name and arguments, sorted by it) and a view: the member's own
 * response keys, in its own order, read from the shared response ({@link project}).
 *
 * Fields of one member that differ only in alias and sub-selection share one field with the union
 * of the sub-selections, as graphql-js merges fields of one response key: a non-null field that
 * fails under one alias nulls the others too, and the error reaches the member at its own path.
 */
export interface SharedSelection {
  /** The document the group executes: one unnamed operation, no fragments, no aliases of the caller's. */
  readonly document: DocumentNode;
  /** The shared document's text, without variables: members whose texts are equal share a group. */
  readonly text: string;
  /** How the member's own response is read from the shared one. */
  readonly view: View;
  /** Members with equal views get the same response (made once per event). */
  readonly viewKey: string;
}

/** The fields of one selection set as one member asked for them, in its order. */
export type View = readonly ViewField[];

export interface ViewField {
  /** The member's response key (its alias, or the field's name). */
  readonly responseKey: string;
  /** The shared response's key for the field. */
  readonly sharedKey: string;
  /** The field's own fields, for an object (or a list of them). */
  readonly view: View | undefined;
}

/** Past this many fields with every fragment inlined, a document is not shared: inlining is the work. */
const MAX_SHARED_FIELDS = 300;

/**
 * The shared selection of the operation, or `undefined` when it cannot be shared (a selection on
 * an abstract type, a document too large once inlined, variables that do not coerce): such a
 * subscription is grouped by its text.
 */
export function sharedSelection(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
): SharedSelection | undefined {
  const operation = getOperationAST(document, operationName);
  if (operation === null || operation === undefined) return undefined;
  const rootType = schema.getRootType(operation.operation);
  if (rootType === undefined || rootType === null) return undefined;
  if (expandedFieldCount(document, operationName) > MAX_SHARED_FIELDS) return undefined;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors !== undefined) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const walk: Walk = { schema, fragments, variables: coerced.coerced };
  try {
    const fields = collect(walk, rootType, [operation.selectionSet]);
    // No variables: each argument holds the value it takes, so names, order and undeclared extras change nothing.
    const shared: OperationDefinitionNode = {
      kind: Kind.OPERATION_DEFINITION,
      operation: operation.operation,
      selectionSet: sharedSet(walk, rootType, fields),
    };
    const sharedDocument: DocumentNode = { kind: Kind.DOCUMENT, definitions: [shared] };
    const view = viewOf(walk, rootType, fields);
    return { document: sharedDocument, text: print(sharedDocument), view, viewKey: JSON.stringify(view) };
  } catch (error) {
    if (error instanceof Unshareable) return undefined;
    throw error;
  }
}

/** The member's response: its own keys, in its own order, read from the shared one. */
export function project(result: FormattedExecutionResult, view: View): FormattedExecutionResult {
  const projected: { -readonly [K in keyof FormattedExecutionResult]: FormattedExecutionResult[K] } = { ...result };
  if (result.data !== undefined && result.data !== null) projected.data = projectValue(result.data, view) as Record<string, unknown>;
  if (result.errors !== undefined) projected.errors = result.errors.flatMap((error) => projectError(error, view));
  return projected;
}

/** An error of the shared response at each of the member's own paths; its locations (in another text) dropped. */
function projectError(error: GraphQLFormattedError, view: View): GraphQLFormattedError[] {
  const { locations: _locations, ...rest } = error;
  if (error.path === undefined) return [rest];
  const paths = projectPaths(error.path, view);
  return paths.length === 0 ? [rest] : paths.map((path) => ({ ...rest, path }));
}

function projectValue(value: unknown, view: View | undefined): unknown {
  if (value === null || value === undefined || view === undefined) return value;
  if (Array.isArray(value)) return value.map((item) => projectValue(item, view));
  const shared = value as Record<string, unknown>;
  const own: Record<string, unknown> = {};
  for (const field of view) own[field.responseKey] = projectValue(shared[field.sharedKey], field.view);
  return own;
}

/** The member's paths for a shared path: through each of its fields under each shared key. */
function projectPaths(path: readonly (string | number)[], view: View | undefined): (string | number)[][] {
  if (path.length === 0) return [[]];
  const [head, ...rest] = path;
  if (typeof head === 'number') return projectPaths(rest, view).map((tail) => [head, ...tail]);
  if (view === undefined) return [];
  return view.filter((field) => field.sharedKey === head).flatMap((field) => projectPaths(rest, field.view).map((tail) => [field.responseKey, ...tail]));
}

interface Walk {
  readonly schema: GraphQLSchema;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly variables: Record<string, unknown>;
}

/** One field of a selection set, as execution collects it. */
interface Collected {
  readonly responseKey: string;
  readonly sharedKey: string;
  readonly node: FieldNode;
  /** Its arguments as the values they take (variables replaced), sorted by name. */
  readonly arguments: ArgumentNode[];
}

class Unshareable extends Error {}

/** The fields of `sets` on an object of `type`, in document order, fragments followed as collectFields does. */
function collect(walk: Walk, type: GraphQLObjectType, sets: readonly SelectionSetNode[]): Collected[] {
  const fields: Collected[] = [];
  const spread = new Set<string>();
  const visit = (selections: readonly SelectionNode[]): void => {
    for (const selection of selections) {
      if (!included(walk, selection)) continue;
      if (selection.kind === Kind.FIELD) {
        const args = argumentValues(walk, type, selection);
        fields.push({ responseKey: selection.alias?.value ?? selection.name.value, sharedKey: sharedKeyOf(selection.name.value, args), node: selection, arguments: args });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (applies(walk, selection.typeCondition?.name.value, type)) visit(selection.selectionSet.selections);
      } else {
        const name = selection.name.value;
        if (spread.has(name)) continue;
        spread.add(name);
        const fragment = walk.fragments.get(name);
        if (fragment !== undefined && applies(walk, fragment.typeCondition.name.value, type)) visit(fragment.selectionSet.selections);
      }
    }
  };
  for (const set of sets) visit(set.selections);
  return fields;
}

/** The shared selection set: one field per shared key (sub-selections merged), sorted by key. */
function sharedSet(walk: Walk, type: GraphQLObjectType, fields: readonly Collected[]): SelectionSetNode {
  const byKey = groupBy(fields, (field) => field.sharedKey);
  const selections: FieldNode[] = [...byKey.keys()].sort(compare).map((key) => {
    const group = byKey.get(key)!;
    const first = group[0]!.node;
    const name = first.name.value;
    const childType = objectTypeOf(type, name);
    return {
      kind: Kind.FIELD,
      ...(key === name ? {} : { alias: { kind: Kind.NAME, value: key } }),
      name: { kind: Kind.NAME, value: name },
      arguments: group[0]!.arguments,
      ...(childType === undefined ? {} : { selectionSet: sharedSet(walk, childType, collect(walk, childType, subSets(group))) }),
    };
  });
  return { kind: Kind.SELECTION_SET, selections };
}

/** The member's view: one field per response key, in the order of first appearance. */
function viewOf(walk: Walk, type: GraphQLObjectType, fields: readonly Collected[]): View {
  return [...groupBy(fields, (field) => field.responseKey)].map(([responseKey, group]) => {
    const childType = objectTypeOf(type, group[0]!.node.name.value);
    return {
      responseKey,
      sharedKey: group[0]!.sharedKey,
      view: childType === undefined ? undefined : viewOf(walk, childType, collect(walk, childType, subSets(group))),
    };
  });
}

/** A field's key in the shared response: its name, with a digest of its arguments when it has any. */
function sharedKeyOf(name: string, args: readonly ArgumentNode[]): string {
  if (args.length === 0) return name;
  const text = args.map((arg) => `${arg.name.value}:${print(arg.value)}`).join(',');
  return `${name}__${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/**
 * The field's arguments as literals of the values they take, sorted by name; one whose variable
 * was not given is left out, as execution leaves it out. Unshareable for one the schema does not know.
 */
function argumentValues(walk: Walk, parent: GraphQLObjectType, node: FieldNode): ArgumentNode[] {
  if (node.arguments === undefined || node.arguments.length === 0) return [];
  const definitions = parent.getFields()[node.name.value]?.args;
  if (definitions === undefined) throw new Unshareable();
  const args: ArgumentNode[] = [];
  for (const arg of node.arguments) {
    const type = definitions.find((definition) => definition.name === arg.name.value)?.type;
    if (type === undefined) throw new Unshareable();
    if (arg.value.kind === Kind.VARIABLE && !(arg.value.name.value in walk.variables)) continue;
    const value = astFromValue(valueFromAST(arg.value, type, walk.variables), type);
    if (value === null || value === undefined) throw new Unshareable();
    args.push({ kind: Kind.ARGUMENT, name: arg.name, value });
  }
  return args.sort((a, b) => compare(a.name.value, b.name.value));
}

/** The object type under field `name` (through lists and non-null); undefined for a leaf; Unshareable for an abstract type. */
function objectTypeOf(parent: GraphQLObjectType, name: string): GraphQLObjectType | undefined {
  if (name === '__typename') return undefined;
  // Anything else unknown (introspection) is not shared: its group is its text's.
  const field = parent.getFields()[name];
  if (field === undefined) throw new Unshareable();
  const named = getNamedType(field.type);
  if (!isCompositeType(named)) return undefined;
  if (!isObjectType(named)) throw new Unshareable();
  return named;
}

function applies(walk: Walk, condition: string | undefined, type: GraphQLObjectType): boolean {
  if (condition === undefined || condition === type.name) return true;
  const conditionType = walk.schema.getType(condition);
  return conditionType !== undefined && isAbstractType(conditionType) && walk.schema.isSubType(conditionType, type);
}

function included(walk: Walk, node: SelectionNode): boolean {
  const skip = getDirectiveValues(GraphQLSkipDirective, node, walk.variables);
  if (skip?.if === true) return false;
  const include = getDirectiveValues(GraphQLIncludeDirective, node, walk.variables);
  return include?.if !== false;
}

function subSets(group: readonly Collected[]): SelectionSetNode[] {
  return group.flatMap((field) => (field.node.selectionSet === undefined ? [] : [field.node.selectionSet]));
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
