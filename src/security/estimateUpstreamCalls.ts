/**
 * The upstream-cost estimate of an operation: how many CSE calls it can make at worst, and how
 * many connection items it renders, from the document and its variables alone. What each field
 * costs is declared once, in graphql/fetchingFields (the cache hints read the same table); the
 * rules the walk applies are in docs/security.md ("The upstream-cost estimate").
 *
 * The walk is linear in the document: each fragment is walked once per context it is spread in
 * (see {@link Walk.memo}), and a walk past its budget, linear in the document's length, stops with
 * an estimate of `Infinity`. A `first`/`last` the resolvers refuse makes its field cost nothing
 * ({@link pageSizeOf}, checked against `parseConnectionArgs` by a test).
 */
import {
  BREAK,
  getArgumentValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  isAbstractType,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  visit,
} from 'graphql';
import { GatewayError } from '../errors/GatewayError';
import { ErrorCode } from '../errors/codes';
import { engineReferenceBudget } from '../graphql/federation/engineReferences';
import { fetchingField } from '../graphql/fetchingFields';
import { connectionCallBudget } from '../pagination/resolveConnection';

export interface EstimateOptions {
  /** The largest `first`/`last` the resolvers accept. */
  readonly maxPageSize: number;
  /** Page size when a connection has neither `first` nor `last`. */
  readonly defaultPageSize: number;
  /** More `Engine` references than this in one `_entities` call are looked up in list pages. */
  readonly engineListThreshold: number;
  /** Engine-list pages one `_entities` call reads at most. */
  readonly maxListPages: number;
}

/** Where a selection set runs, apart from how many times: what changes what its fields cost. */
interface Context {
  /** Inside a connection: items per page (the multiplier of its `nodes`/`edges`). */
  readonly pageItems?: number;
  /** Inside `_entities`: representations per type name (the multiplier of `... on T`). */
  readonly entities?: ReadonlyMap<string, number>;
  /** A job reached through its own engine: `Job.engine` is already loaded. */
  readonly engineLoaded: boolean;
}

interface Walk {
  readonly schema: GraphQLSchema;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly variables: Record<string, unknown>;
  readonly options: EstimateOptions;
  /** The cost of one run of a fragment, by fragment, type and context: without it, a walk can be exponential. */
  readonly memo: Map<string, Cost>;
  /** Numbers the `_entities` contexts for the memo key (there is one per `_entities` field). */
  readonly entityContexts: Map<ReadonlyMap<string, number>, number>;
  /** Fragment names being expanded (validation forbids cycles; this keeps the walk total anyway). */
  readonly expanding: Set<string>;
  /** Selections visited so far, against `budget`. */
  steps: number;
  readonly budget: number;
}

/** A walk past its budget: the budget bounds the walk whatever the memo misses. */
class EstimateBudgetExceeded extends Error {
  constructor() {
    super('The operation is too complex to estimate.');
    this.name = 'EstimateBudgetExceeded';
  }
}

/** Every walk may visit this many selections, plus {@link BUDGET_PER_CHARACTER} per character of the document. */
const BUDGET_BASE = 100_000;
const BUDGET_PER_CHARACTER = 16;

/** What one run of an operation costs at worst. */
export interface Estimate {
  /** Upstream calls. */
  readonly calls: number;
  /** Connection items rendered (each connection's page, multiplied as calls are). */
  readonly items: number;
  /** Selections the walk that made this estimate visited (linear in the document). */
  readonly steps: number;
}

/** A cost being summed (one mutable pair, so the walk allocates little). */
interface Cost {
  calls: number;
  items: number;
}

const NOTHING: Estimate = { calls: 0, items: 0, steps: 0 };

function addTo(sum: Cost, cost: Cost, times = 1): void {
  // 0 × Infinity would be NaN: what runs no time costs nothing.
  if (times === 0) return;
  sum.calls += times * cost.calls;
  sum.items += times * cost.items;
}

/**
 * The estimate of the operation `operationName` of a document valid against `schema`; an
 * operation that cannot be found, or whose variables do not coerce, costs nothing (execution
 * refuses it before any call).
 *
 * The walk is done once per document, operation and what the variables say to the estimate: the
 * values of those used as `first` or `last`, and whether those used as `after` or `before` are
 * given (a cursor's presence changes the call budget, its value nothing). A document that takes
 * `_entities` representations from a variable is walked every time (their counts are the cost).
 * Results live in a WeakMap on the parsed document, bounded by the document store that keeps it.
 *
 * @throws GatewayError BAD_USER_INPUT for `_entities` representations that are not objects
 *   naming an entity type of the schema in `__typename`.
 */
export function createEstimator(schema: GraphQLSchema, options: EstimateOptions) {
  type Memo = { readonly uses: CostVariableUses | undefined; readonly byKey: Map<string, Estimate> };
  const byDocument = new WeakMap<DocumentNode, Memo>();
  return (document: DocumentNode, operationName: string | null | undefined, rawVariables: Record<string, unknown> | undefined): Estimate => {
    let memo = byDocument.get(document);
    if (memo === undefined) {
      memo = { uses: costVariableUses(document), byKey: new Map() };
      byDocument.set(document, memo);
    }
    const prepared = prepare(schema, document, operationName, rawVariables);
    if (prepared === undefined) return NOTHING;
    if (memo.uses === undefined) return walkOperation(schema, document, prepared, options);
    const key = memoKey(operationName, memo.uses, prepared.variables);
    let cost = memo.byKey.get(key);
    if (cost === undefined) {
      cost = walkOperation(schema, document, prepared, options);
      if (memo.byKey.size < MAX_MEMO_KEYS) memo.byKey.set(key, cost);
    }
    return cost;
  };
}

/** Distinct variable readings remembered per document (page sizes a client uses are few). */
const MAX_MEMO_KEYS = 64;

/** How each variable a cost argument reads is read: by its value, or by whether it is given. */
type CostVariableUses = ReadonlyMap<string, 'value' | 'presence'>;

/** The arguments the estimate reads (see pageSizeOf, connectionCallBudget and entityCounts). */
const COST_ARGUMENTS: Readonly<Record<string, 'value' | 'presence' | 'walk'>> = {
  first: 'value',
  last: 'value',
  after: 'presence',
  before: 'presence',
  representations: 'walk',
};

/**
 * The variables that appear, at any depth, in an argument the estimate reads, and how it reads
 * them; `undefined` when one is read in a way the memo cannot key (`_entities` representations).
 */
function costVariableUses(document: DocumentNode): CostVariableUses | undefined {
  const uses = new Map<string, 'value' | 'presence'>();
  let memoizable = true;
  visit(document, {
    Argument(node) {
      const use = Object.hasOwn(COST_ARGUMENTS, node.name.value) ? COST_ARGUMENTS[node.name.value] : undefined;
      if (use === undefined) return false;
      visit(node.value, {
        Variable(variable) {
          if (use === 'walk') memoizable = false;
          else if (uses.get(variable.name.value) !== 'value') uses.set(variable.name.value, use);
        },
      });
      return memoizable ? false : BREAK;
    },
    // Directive arguments (@skip, @include) are not read: the worst case includes the field.
    Directive: () => false,
  });
  return memoizable ? uses : undefined;
}

function memoKey(operationName: string | null | undefined, uses: CostVariableUses, variables: Record<string, unknown>): string {
  let key = operationName ?? '';
  for (const [name, use] of uses) {
    const value = variables[name];
    key += `\u0000${name}=${use === 'presence' ? String(value !== undefined && value !== null) : JSON.stringify(value ?? null)}`;
  }
  return key;
}

interface Prepared {
  readonly operation: OperationDefinitionNode;
  readonly rootType: GraphQLObjectType;
  readonly variables: Record<string, unknown>;
}

/** The operation, its root type and its coerced variables; undefined when execution would refuse it before any call. */
function prepare(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Record<string, unknown> | undefined,
): Prepared | undefined {
  const operation = getOperationAST(document, operationName);
  if (operation === null || operation === undefined) return undefined;
  const rootType = schema.getRootType(operation.operation);
  if (rootType === undefined || rootType === null) return undefined;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {});
  // Variables that do not coerce make execution fail before any resolver runs.
  if (coerced.errors !== undefined) return undefined;
  return { operation, rootType, variables: coerced.coerced };
}

function walkOperation(schema: GraphQLSchema, document: DocumentNode, prepared: Prepared, options: EstimateOptions): Estimate {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const walk: Walk = {
    schema,
    fragments,
    variables: prepared.variables,
    options,
    memo: new Map(),
    entityContexts: new Map(),
    expanding: new Set(),
    steps: 0,
    budget: BUDGET_BASE + BUDGET_PER_CHARACTER * (document.loc?.end ?? 0),
  };
  try {
    const { calls, items } = selectionSetCost(walk, prepared.operation.selectionSet, prepared.rootType, { engineLoaded: false });
    return { calls, items, steps: walk.steps };
  } catch (error) {
    if (error instanceof EstimateBudgetExceeded) return { calls: Number.POSITIVE_INFINITY, items: Number.POSITIVE_INFINITY, steps: walk.steps };
    throw error;
  }
}

/**
 * The number of items a connection field with these arguments returns at most, or `null` when
 * the resolver refuses the arguments (BAD_USER_INPUT before any call), mirroring
 * `parseConnectionArgs`: `first` and `last` are integers from 0 to `maxPageSize`, never both;
 * neither means the default page size (capped by the maximum).
 */
export function pageSizeOf(
  args: { first?: unknown; last?: unknown },
  options: Pick<EstimateOptions, 'maxPageSize' | 'defaultPageSize'>,
): number | null {
  const first = args.first ?? undefined;
  const last = args.last ?? undefined;
  const valid = (value: unknown) =>
    typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= options.maxPageSize;
  if (first !== undefined && !valid(first)) return null;
  if (last !== undefined && !valid(last)) return null;
  if (first !== undefined && last !== undefined) return null;
  const size = (first ?? last) as number | undefined;
  return size ?? Math.min(options.defaultPageSize, options.maxPageSize);
}

/** The cost of one run of `set` on an object of `parentType` in `context`. */
function selectionSetCost(walk: Walk, set: SelectionSetNode, parentType: GraphQLCompositeType, context: Context): Cost {
  const cost: Cost = { calls: 0, items: 0 };
  // The same fragment spread twice in one selection set runs once (execution collects it once).
  let spread: Set<string> | undefined;
  for (const selection of set.selections) {
    walk.steps += 1;
    if (walk.steps > walk.budget) throw new EstimateBudgetExceeded();
    switch (selection.kind) {
      case Kind.FIELD:
        addTo(cost, fieldCost(walk, selection, parentType, context));
        break;
      case Kind.INLINE_FRAGMENT: {
        const type = typeCondition(walk, selection.typeCondition?.name.value) ?? parentType;
        const [times, inner] = narrow(context, parentType, type);
        if (times > 0) addTo(cost, selectionSetCost(walk, selection.selectionSet, type, inner), times);
        break;
      }
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        if (spread?.has(name)) break;
        (spread ??= new Set()).add(name);
        const fragment = walk.fragments.get(name);
        if (fragment === undefined) break;
        const type = typeCondition(walk, fragment.typeCondition.name.value) ?? parentType;
        const [times, inner] = narrow(context, parentType, type);
        if (times > 0) addTo(cost, fragmentCost(walk, fragment, type, inner), times);
        break;
      }
    }
  }
  return cost;
}

/** One run of a fragment's selection set in `context`, walked once per (fragment, type, context). */
function fragmentCost(walk: Walk, fragment: FragmentDefinitionNode, type: GraphQLCompositeType, context: Context): Cost {
  const name = fragment.name.value;
  const key = `${name}\u0000${type.name}\u0000${contextKey(walk, context)}`;
  const known = walk.memo.get(key);
  if (known !== undefined) return known;
  if (walk.expanding.has(name)) return NOTHING;
  walk.expanding.add(name);
  const cost = selectionSetCost(walk, fragment.selectionSet, type, context);
  walk.expanding.delete(name);
  walk.memo.set(key, cost);
  return cost;
}

function contextKey(walk: Walk, context: Context): string {
  let entities = 0;
  if (context.entities !== undefined) {
    entities = walk.entityContexts.get(context.entities) ?? walk.entityContexts.size + 1;
    walk.entityContexts.set(context.entities, entities);
  }
  return `${context.pageItems ?? '-'}/${context.engineLoaded ? 1 : 0}/${entities}`;
}

function typeCondition(walk: Walk, name: string | undefined): GraphQLCompositeType | undefined {
  if (name === undefined) return undefined;
  const type = walk.schema.getType(name);
  return type !== undefined && isCompositeType(type) ? type : undefined;
}

/**
 * How many times a fragment with type condition `to` runs per run of its parent, and in which
 * context: `... on Engine` inside `_entities` runs once per Engine representation, not once per call.
 */
function narrow(context: Context, from: GraphQLCompositeType, to: GraphQLCompositeType): [number, Context] {
  if (context.entities === undefined || !isAbstractType(from) || from === to) return [1, context];
  return [context.entities.get(to.name) ?? 0, { engineLoaded: context.engineLoaded }];
}

/** The cost of one run of a field: its own, and that of its selection set. */
function fieldCost(walk: Walk, node: FieldNode, parentType: GraphQLCompositeType, context: Context): Cost {
  const name = node.name.value;
  // Introspection is exempt, and `_service` only prints the SDL.
  if (name.startsWith('__') || name === '_service') return NOTHING;
  if (!isObjectType(parentType) && !isInterfaceType(parentType)) return NOTHING;
  const field = parentType.getFields()[name];
  if (field === undefined) return NOTHING;
  const declared = fetchingField(parentType.name, name);
  if (declared === undefined) {
    // Inside a connection, its lists (`nodes`, `edges`) hold one page of items.
    const inner: Context = { engineLoaded: context.engineLoaded };
    if (context.pageItems !== undefined && isList(field.type)) {
      const cost: Cost = { calls: 0, items: 0 };
      addTo(cost, children(walk, node, field.type, inner), context.pageItems);
      return cost;
    }
    return children(walk, node, field.type, inner);
  }
  const args = argumentsOf(field, node, walk.variables);
  const under: Context = { engineLoaded: declared.loadsEngine };
  const { cost } = declared;
  switch (cost.calls) {
    case 'one': {
      const own: Cost = { calls: cost.freeUnderItsEngine === true && context.engineLoaded ? 0 : 1, items: 0 };
      addTo(own, children(walk, node, field.type, under));
      return own;
    }
    case 'page': {
      const items = pageSizeOf(args ?? {}, walk.options);
      if (items === null) return NOTHING;
      const given = (name: string) => args?.[name] !== undefined && args[name] !== null;
      const calls = connectionCallBudget({ direction: given('last') ? 'backward' : 'forward', after: given('after'), before: given('before') });
      const own: Cost = { calls, items };
      addTo(own, children(walk, node, field.type, { ...under, pageItems: items }));
      return own;
    }
    case 'entities': {
      const counts = entityCounts(walk.schema, args?.representations);
      let calls = 0;
      for (const [typename, count] of counts) {
        calls += typename === 'Engine' ? engineReferenceBudget(count, walk.options) : count;
      }
      const own: Cost = { calls, items: 0 };
      addTo(own, children(walk, node, field.type, { ...under, entities: counts }));
      return own;
    }
  }
}

function children(walk: Walk, node: FieldNode, type: GraphQLOutputType, context: Context): Cost {
  if (node.selectionSet === undefined) return NOTHING;
  const named = getNamedType(type);
  if (!isCompositeType(named)) return NOTHING;
  return selectionSetCost(walk, node.selectionSet, named, context);
}

function isList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

function argumentsOf(
  field: GraphQLField<unknown, unknown>,
  node: FieldNode,
  variables: Record<string, unknown>,
): Record<string, unknown> | undefined {
  try {
    return getArgumentValues(field, node, variables);
  } catch {
    // Arguments that do not coerce fail the field before its resolver runs: no call.
    return undefined;
  }
}

/** Representations per `__typename`, refusing what `_entities` could only fail on. */
function entityCounts(schema: GraphQLSchema, representations: unknown): Map<string, number> {
  const counts = new Map<string, number>();
  if (!Array.isArray(representations)) return counts;
  const entity = schema.getType('_Entity');
  const entityTypes = new Set(entity !== undefined && isAbstractType(entity) ? schema.getPossibleTypes(entity).map((t) => t.name) : []);
  representations.forEach((representation: unknown, index) => {
    const typename =
      typeof representation === 'object' && representation !== null && !Array.isArray(representation)
        ? (representation as Record<string, unknown>).__typename
        : undefined;
    if (typeof typename !== 'string' || !entityTypes.has(typename)) {
      throw new GatewayError(
        ErrorCode.BAD_USER_INPUT,
        `representations[${index}] must be an object whose "__typename" is one of: ${[...entityTypes].join(', ')}.`,
        { details: { argumentName: 'representations' } },
      );
    }
    counts.set(typename, (counts.get(typename) ?? 0) + 1);
  });
  return counts;
}
