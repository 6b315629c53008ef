import { createHash } from 'node:crypto';
import {
  astFromValue,
  getNamedType,
  getOperationAST,
  getVariableValues,
  isCompositeType,
  isObjectType,
  Kind,
  print,
  valueFromAST,
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type FormattedExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
  type SourceLocation,
} from 'graphql';
import { collectFields, collectSubfields } from 'graphql/execution/collectFields';
import { expandedFieldCount, fragmentsOf } from '../graphql/execution/expandedSize';
import { jsonByteLength } from '../observability/logger';
import { locationsOf } from '../graphql/errorLocations';
import { MAX_ERROR_LOCATIONS } from '../graphql/execution/operationExecutor';

export type View = readonly ViewField[];

export interface ViewField {
  readonly responseKey: string;
  readonly sharedKey: string;
  readonly view: View | undefined;
  /** Where the member's document asks for it: its errors' locations. */
  readonly locations: readonly SourceLocation[];
}

/** Past this many fields with every fragment inlined, a document is not shared: inlining is the work. */
const MAX_SHARED_FIELDS = 300;

/** Fields as execution collects them, each under a key of its name and argument values, sorted: one text
 * for documents that differ only in aliases, names, fragments, variables or layout (docs/subscriptions.md).
 * `undefined` (grouped by its text instead) for an abstract type, a large document, bad variables, one
 * field under two aliases. */
export function sharedSelection(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
): { document: DocumentNode; text: string; view: View; viewKey: string } | undefined {
  const operation = getOperationAST(document, operationName) ?? null;
  const rootType = operation === null ? null : schema.getRootType(operation.operation);
  if (operation === null || rootType === null || rootType === undefined) return undefined;
  if (expandedFieldCount(document, operationName) > MAX_SHARED_FIELDS) return undefined;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors !== undefined) return undefined;
  const fragments = Object.fromEntries(fragmentsOf(document));
  const walk: Walk = { schema, fragments, variables: coerced.coerced };
  try {
    const collected = collectFields(schema, fragments, walk.variables, rootType, operation.selectionSet);
    const fields = fieldsOf(walk, rootType, collected);
    const selectionSet = sharedSet(walk, rootType, fields);
    const { OPERATION_DEFINITION, DOCUMENT } = Kind;
    const definition = { kind: OPERATION_DEFINITION, selectionSet, operation: operation.operation } as const;
    const sharedDocument: DocumentNode = { kind: DOCUMENT, definitions: [definition] };
    const view = viewOf(walk, rootType, fields);
    return { document: sharedDocument, text: print(sharedDocument), view, viewKey: JSON.stringify(view) };
  } catch (error) {
    if (error instanceof Unshareable) return undefined;
    throw error;
  }
}

/** The result in the member's own keys; `undefined` once its JSON would pass `maxBytes`: aliases (up to
 * MAX_ALIAS_LENGTH) in every item of a list can make it several times the shared one. */
export function project(result: FormattedExecutionResult, view: View): FormattedExecutionResult;
export function project(result: FormattedExecutionResult, view: View, maxBytes: number): FormattedExecutionResult | undefined;
export function project(result: FormattedExecutionResult, view: View, maxBytes = Infinity): FormattedExecutionResult | undefined {
  const projected = { ...result } as { data?: unknown; errors?: GraphQLFormattedError[] };
  const count = new ByteCount(maxBytes);
  try {
    if (result.data !== undefined && result.data !== null) projected.data = projectValue(result.data, view, count);
    if (result.errors !== undefined) projected.errors = result.errors.map((each) => projectError(each, view, count));
  } catch (error) {
    if (error === PAST_BOUND) return undefined;
    throw error;
  }
  return projected as FormattedExecutionResult;
}

const PAST_BOUND = Symbol('past the bound');

/** A JSON value's text length (UTF-16 units: no more than its bytes), once per value however many views
 * hold it. */
const leafLengths = new WeakMap<object, number>();
/** An error's text as answered without its path (message, extensions), once per error. */
const errorLengths = new WeakMap<object, number>();

/** At most the JSON's bytes, counted before anything is copied: the walk stops within `maxBytes` of
 * output (and one value). */
class ByteCount {
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  add(bytes: number): void {
    if ((this.bytes += bytes) > this.maxBytes) throw PAST_BOUND;
  }

  leaf(value: unknown): void {
    // Escapes included: a control character is six bytes.
    if (typeof value === 'string') return this.add(jsonByteLength(value) + 2);
    if (typeof value !== 'object' || value === null) return this.add(String(value).length);
    let length = leafLengths.get(value);
    if (length === undefined) leafLengths.set(value, (length = JSON.stringify(value).length));
    this.add(length);
  }

  /** A result no view projects, walked as JSON.stringify writes it. */
  json(value: unknown): void {
    if (Array.isArray(value)) {
      this.add(value.length === 0 ? 2 : 1 + value.length);
      for (const item of value) this.json(item ?? null);
      return;
    }
    if (typeof value !== 'object' || value === null) return this.leaf(value);
    const entries = Object.entries(value).filter(([, member]) => member !== undefined);
    this.add(entries.length === 0 ? 2 : 1);
    for (const [key, member] of entries) {
      this.add(jsonByteLength(key) + 4);
      this.json(member);
    }
  }
}

/** Whether `value`'s JSON is at most `maxBytes`, found without writing it. */
export function fitsJson(value: unknown, maxBytes: number): boolean {
  try {
    new ByteCount(maxBytes).json(value);
    return true;
  } catch (error) {
    if (error === PAST_BOUND) return false;
    throw error;
  }
}

/** An error at the member's own path, located in the member's own document (the shared one's are of
 * another text). */
function projectError(error: GraphQLFormattedError, view: View, count: ByteCount): GraphQLFormattedError {
  const { locations: _locations, ...rest } = error;
  const { path: _path, ...unplaced } = rest;
  let length = errorLengths.get(error);
  if (length === undefined) errorLengths.set(error, (length = JSON.stringify(unplaced).length));
  const placed = error.path === undefined ? undefined : projectPath(error.path, view);
  const own: GraphQLFormattedError =
    placed === undefined
      ? rest
      : {
          message: rest.message,
          ...(placed.field === undefined || placed.field.locations.length === 0 ? {} : { locations: placed.field.locations }),
          path: placed.path,
          ...(rest.extensions === undefined ? {} : { extensions: rest.extensions }),
        };
  // Its text, `,"locations":[…]` and `,"path":[…]`.
  const { locations, path } = own;
  count.add(length + (locations === undefined ? 0 : 13 + JSON.stringify(locations).length) + (path === undefined ? 0 : 8 + JSON.stringify(path).length));
  return own;
}

function projectValue(value: unknown, view: View | undefined, count: ByteCount): unknown {
  if (value === null || value === undefined || view === undefined) {
    count.leaf(value ?? null);
    return value;
  }
  if (Array.isArray(value)) {
    // Brackets and the commas between items.
    count.add(value.length === 0 ? 2 : 1 + value.length);
    return value.map((item) => projectValue(item, view, count));
  }
  const shared = value as Record<string, unknown>;
  const own: Record<string, unknown> = {};
  count.add(view.length === 0 ? 2 : 1);
  for (const field of view) {
    // `"key":` and a comma or the closing brace.
    count.add(field.responseKey.length + 4);
    own[field.responseKey] = projectValue(shared[field.sharedKey], field.view, count);
  }
  return own;
}

/** The member's path for a shared one (a view names each shared field once), with the field it ends at. */
function projectPath(path: readonly (string | number)[], view: View | undefined): Placed | undefined {
  if (path.length === 0) return { path: [] };
  const [head, ...rest] = path;
  if (typeof head === 'number') {
    const tail = projectPath(rest, view);
    return tail && { path: [head, ...tail.path], field: tail.field };
  }
  const field = view?.find((each) => each.sharedKey === head);
  if (field === undefined) return undefined;
  const tail = projectPath(rest, field.view);
  return tail && { path: [field.responseKey, ...tail.path], field: tail.field ?? field };
}

type Placed = { readonly path: (string | number)[]; readonly field?: ViewField };

interface Walk {
  readonly schema: GraphQLSchema;
  readonly fragments: Record<string, FragmentDefinitionNode>;
  readonly variables: Record<string, unknown>;
}

type Collected = ReturnType<typeof fieldsOf>[number];

class Unshareable extends Error {}

function fieldsOf(walk: Walk, type: GraphQLObjectType, collected: Map<string, readonly FieldNode[]>) {
  return [...collected].map(([responseKey, nodes]) => {
    const args = argumentValues(walk, type, nodes[0]!);
    return { responseKey, sharedKey: sharedKeyOf(nodes[0]!.name.value, args), nodes, arguments: args };
  });
}

function subfields(walk: Walk, type: GraphQLObjectType, group: readonly Collected[]): Collected[] {
  const { schema, fragments, variables } = walk;
  const collect = (field: Collected) => collectSubfields(schema, fragments, variables, type, field.nodes);
  return group.flatMap((field) => fieldsOf(walk, type, collect(field)));
}

function sharedSet(walk: Walk, type: GraphQLObjectType, fields: readonly Collected[]): SelectionSetNode {
  const byKey = new Map<string, Collected[]>();
  for (const field of fields) byKey.set(field.sharedKey, [...(byKey.get(field.sharedKey) ?? []), field]);
  const selections: FieldNode[] = [...byKey.keys()].sort().map((key) => {
    const group = byKey.get(key)!;
    const name = group[0]!.nodes[0]!.name.value;
    const childType = objectTypeOf(type, name);
    const children = childType && sharedSet(walk, childType, subfields(walk, childType, group));
    return {
      kind: Kind.FIELD,
      ...(key === name ? {} : { alias: { kind: Kind.NAME, value: key } }),
      name: { kind: Kind.NAME, value: name },
      arguments: group[0]!.arguments,
      ...(children === undefined ? {} : { selectionSet: children }),
    };
  });
  return { kind: Kind.SELECTION_SET, selections };
}

/** A field asked for under two names (aliases) at one level is not shared: execution merges their
 * selections into one field, whose failure (a non-null field under one alias) would null both. */
function viewOf(walk: Walk, type: GraphQLObjectType, fields: readonly Collected[]): View {
  if (new Set(fields.map((field) => field.sharedKey)).size < fields.length) throw new Unshareable();
  return fields.map((field) => {
    const childType = objectTypeOf(type, field.nodes[0]!.name.value);
    const view = childType && viewOf(walk, childType, subfields(walk, childType, [field]));
    const nodes = field.nodes.flatMap((node) => (node.loc === undefined ? [] : [node.loc]));
    return { responseKey: field.responseKey, sharedKey: field.sharedKey, view, locations: locationsOf(nodes).slice(0, MAX_ERROR_LOCATIONS) };
  });
}

function sharedKeyOf(name: string, args: readonly ArgumentNode[]): string {
  if (args.length === 0) return name;
  const text = args.map((arg) => `${arg.name.value}:${print(arg.value)}`).join(',');
  return `${name}__${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/** Literals of the values they take, sorted; one whose variable is not given is left out, as in execution. */
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
  return args.sort((a, b) => (a.name.value < b.name.value ? -1 : 1));
}

/** Undefined for a leaf; an abstract type is not shared. */
function objectTypeOf(parent: GraphQLObjectType, name: string): GraphQLObjectType | undefined {
  if (name === '__typename') return undefined;
  // Anything else unknown (introspection) is not shared.
  const field = parent.getFields()[name];
  if (field === undefined) throw new Unshareable();
  const named = getNamedType(field.type);
  if (!isCompositeType(named)) return undefined;
  if (!isObjectType(named)) throw new Unshareable();
  return named;
}
