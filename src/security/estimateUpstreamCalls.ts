/** The upstream-cost estimate (docs/security.md), by the resolvers' own rules. */
import {
  BREAK,
  getArgumentValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  isAbstractType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type OperationDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import { GatewayError } from '../errors/GatewayError';
import { ErrorCode } from '../errors/codes';
import { engineReferenceBudget } from '../graphql/federation/engineReferences';
import { documentShape, type ShapeLiteral } from '../graphql/execution/documentShape';
import { fragmentsOf } from '../graphql/execution/expandedSize';
import { fetchingField } from '../graphql/fetchingFields';
import { pageOf, type PageSizes } from '../pagination/args';
import { connectionCallBudget } from '../pagination/resolveConnection';

export interface EstimateOptions extends PageSizes {
  readonly engineListThreshold: number;
  readonly maxListPages: number;
}

/** Calls, connection items rendered and `_entities` representations carried, at worst. */
interface Cost {
  calls: number;
  items: number;
  /** Each one is resolved, and answered (an item or an error), whatever it costs upstream. */
  representations: number;
}

/** `steps`: selections visited, linear in the document. */
export type Estimate = Readonly<Cost> & { readonly steps: number };

interface Context {
  /** Items per page, inside a connection: the multiplier of its `nodes`/`edges`. */
  readonly pageItems?: number;
  /** Representations per type name, inside `_entities`: the multiplier of `... on T`. */
  readonly entities?: ReadonlyMap<string, number>;
  /** `Job.engine` is already loaded under its own engine. */
  readonly engineLoaded: boolean;
}

const NOTHING: Estimate = { calls: 0, items: 0, representations: 0, steps: 0 };

class OverBudget {}

/** Shapes remembered, and the longest memo key kept: bounded whatever the documents. */
const MAX_SHAPES = 1_000;
const MAX_KEY_CHARS = 128;

export type CoercedVariables = ReturnType<typeof getVariableValues>;

/** The operation's variables as execution coerces them: what the estimate reads, and what refuses bad input.
 * One error, then a stop: each of graphql-js's messages quotes its whole value, so many were quadratic. */
export function coerceVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  raw: Record<string, unknown> | undefined,
  hideSuggestions = false,
): CoercedVariables {
  return getVariableValues(schema, operation.variableDefinitions ?? [], raw ?? {}, { maxErrors: 1, hideSuggestions });
}

/** Memoized per document shape from its second use (most are sent once), keyed by the literals and cost
 * variables it reads (`_entities` representations in a variable: walked each time).
 * @throws GatewayError BAD_USER_INPUT for `_entities` representations not naming an entity type. */
export function createEstimator(schema: GraphQLSchema, options: EstimateOptions) {
  const byShape = new LRUCache<string, ReturnType<typeof newMemo> | 'seen'>({ max: MAX_SHAPES });
  return (document: DocumentNode, operation: OperationDefinitionNode, coerced: CoercedVariables): Estimate => {
    const rootType = schema.getRootType(operation.operation);
    if (rootType === undefined || rootType === null) return NOTHING;
    // Variables that do not coerce make execution fail before any resolver runs.
    if (coerced.errors !== undefined) return NOTHING;
    const shape = documentShape(document);
    const known = byShape.get(shape.key);
    const memo = known === 'seen' ? newMemo(document, shape.literals) : known;
    if (known === undefined || known === 'seen') byShape.set(shape.key, memo ?? 'seen');
    const uses = memo?.uses;
    const key = uses && memoKey(operation, uses, coerced.coerced, memo!.keyed, shape.literals);
    let estimate = key === undefined ? undefined : memo!.byKey.get(key);
    if (estimate === undefined) {
      estimate = walk(schema, options, document, coerced.coerced, operation.selectionSet, rootType);
      // A client uses few page sizes.
      const kept = key !== undefined && key.length <= MAX_KEY_CHARS && memo!.byKey.size < 64;
      if (kept) memo!.byKey.set(key, estimate);
    }
    return estimate;
  };
}

const COST_ARGUMENTS: Readonly<Record<string, 'value' | 'presence' | 'walk'>> = {
  first: 'value',
  last: 'value',
  after: 'presence',
  before: 'presence',
  representations: 'walk',
};

// The shape's literals the estimate can depend on, by index: all but `after`/`before` strings (read for
// presence only). `uses` is `undefined` when a variable is read unkeyably (`_entities` representations).
function newMemo(document: DocumentNode, literals: readonly ShapeLiteral[]) {
  const uses = new Map<string, 'value' | 'presence'>();
  const presenceOnly = new Set<ValueNode>();
  let memoizable = true;
  visit(document, {
    Argument(node) {
      const name = node.name.value;
      const use = Object.hasOwn(COST_ARGUMENTS, name) ? COST_ARGUMENTS[name] : undefined;
      if (use === 'presence' && node.value.kind === Kind.STRING) presenceOnly.add(node.value);
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
  const keyed = literals.flatMap((literal, i) => (presenceOnly.has(literal) ? [] : [i]));
  return { uses: memoizable ? uses : undefined, keyed, byKey: new Map<string, Estimate>() };
}

function memoKey(
  operation: OperationDefinitionNode,
  uses: ReadonlyMap<string, 'value' | 'presence'>,
  variables: Record<string, unknown>,
  keyed: readonly number[],
  literals: readonly ShapeLiteral[],
): string {
  let key = operation.name?.value ?? '';
  for (const [name, use] of uses) {
    const value = variables[name];
    const given = value !== undefined && value !== null;
    key += `\u0000${name}=${use === 'presence' ? String(given) : JSON.stringify(value ?? null)}`;
  }
  for (const i of keyed) key += `\u0000${JSON.stringify(literals[i]!.value)}`;
  return key;
}

function addTo(sum: Cost, cost: Cost, times = 1): Cost {
  // 0 × Infinity would be NaN: what runs no time costs nothing.
  if (times === 0) return sum;
  sum.calls += times * cost.calls;
  sum.items += times * cost.items;
  sum.representations += times * cost.representations;
  return sum;
}

function walk(
  schema: GraphQLSchema,
  options: EstimateOptions,
  document: DocumentNode,
  variables: Record<string, unknown>,
  root: SelectionSetNode,
  rootType: GraphQLObjectType,
): Estimate {
  const fragments = fragmentsOf(document);
  /** By fragment, type and context: without it, a walk can be exponential. */
  const memo = new Map<string, Cost>();
  const entityContexts = new Map<ReadonlyMap<string, number>, number>();
  /** Validation forbids cycles; this keeps the walk total anyway. */
  const expanding = new Set<string>();
  // Past it the walk answers Infinity, whatever the memo misses.
  const budget = 100_000 + 16 * (document.loc?.end ?? 0);
  let steps = 0;
  // Every `_entities` field's engine references load in one batch (one DataLoader, one tick): its budget
  // is that of them all, which may pass the sum of each field's.
  let engineReferences = 0;
  let engineReferenceCalls = 0;

  function selectionSet(set: SelectionSetNode, parentType: GraphQLCompositeType, context: Context): Cost {
    const cost: Cost = { calls: 0, items: 0, representations: 0 };
    // The same fragment spread twice in one selection set runs once (execution collects it once).
    let spread: Set<string> | undefined;
    for (const selection of set.selections) {
      steps += 1;
      if (steps > budget) throw new OverBudget();
      if (selection.kind === Kind.FIELD) {
        addTo(cost, field(selection, parentType, context));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = typeNamed(selection.typeCondition?.name.value) ?? parentType;
        const [times, inner] = narrow(context, parentType, type);
        if (times > 0) addTo(cost, selectionSet(selection.selectionSet, type, inner), times);
      } else {
        const definition = fragments.get(selection.name.value);
        if (definition === undefined || spread?.has(definition.name.value)) continue;
        (spread ??= new Set()).add(definition.name.value);
        const type = typeNamed(definition.typeCondition.name.value) ?? parentType;
        const [times, inner] = narrow(context, parentType, type);
        if (times > 0) addTo(cost, fragment(definition, type, inner), times);
      }
    }
    return cost;
  }

  function fragment(definition: FragmentDefinitionNode, type: GraphQLCompositeType, context: Context): Cost {
    const name = definition.name.value;
    let entities = 0;
    if (context.entities !== undefined) {
      entities = entityContexts.get(context.entities) ?? entityContexts.size + 1;
      entityContexts.set(context.entities, entities);
    }
    const contextKey = `${context.pageItems ?? '-'}/${context.engineLoaded ? 1 : 0}/${entities}`;
    const key = `${name}\u0000${type.name}\u0000${contextKey}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    if (expanding.has(name)) return NOTHING;
    expanding.add(name);
    const cost = selectionSet(definition.selectionSet, type, context);
    expanding.delete(name);
    memo.set(key, cost);
    return cost;
  }

  function typeNamed(name: string | undefined): GraphQLCompositeType | undefined {
    const type = name === undefined ? undefined : schema.getType(name);
    return type !== undefined && isCompositeType(type) ? type : undefined;
  }

  function field(node: FieldNode, parentType: GraphQLCompositeType, context: Context): Cost {
    const name = node.name.value;
    // Introspection is exempt, and `_service` only prints the SDL.
    if (name.startsWith('__') || name === '_service') return NOTHING;
    if (!isObjectType(parentType) && !isInterfaceType(parentType)) return NOTHING;
    const definition = parentType.getFields()[name];
    if (definition === undefined) return NOTHING;
    const declared = fetchingField(parentType.name, name);
    if (declared === undefined) {
      // Inside a connection, its lists (`nodes`, `edges`) hold one page of items.
      const { pageItems } = context;
      const inner = children(node, definition.type, { engineLoaded: context.engineLoaded });
      if (pageItems === undefined || !isListType(getNullableType(definition.type))) return inner;
      return addTo({ calls: 0, items: 0, representations: 0 }, inner, pageItems);
    }
    let args: Record<string, unknown>;
    try {
      args = getArgumentValues(definition, node, variables);
    } catch {
      // Arguments that do not coerce fail the field before its resolver runs: no call.
      args = {};
    }
    const under: Context = { engineLoaded: declared.loadsEngine };
    const { cost } = declared;
    switch (cost.calls) {
      case 'one': {
        const calls = cost.freeUnderItsEngine === true && context.engineLoaded ? 0 : 1;
        return addTo({ calls, items: 0, representations: 0 }, children(node, definition.type, under));
      }
      case 'page': {
        const page = pageOf(args, options);
        if (page instanceof GatewayError) return NOTHING;
        const given = (name: string) => args[name] !== undefined && args[name] !== null;
        const calls = connectionCallBudget({ ...page, after: given('after'), before: given('before') });
        const inner = children(node, definition.type, { ...under, pageItems: page.count });
        return addTo({ calls, items: page.count, representations: 0 }, inner);
      }
      case 'entities': {
        // As coerced, a list (a lone value is a list of one); `{}` when it does not coerce (nothing resolves).
        const { representations } = args;
        const carried = Array.isArray(representations) ? representations.length : 0;
        const counts = entityCounts(schema, representations);
        let calls = 0;
        for (const [typename, count] of counts) {
          if (typename !== 'Engine') calls += count;
          else {
            const budget = engineReferenceBudget(count, options);
            calls += budget;
            engineReferences += count;
            engineReferenceCalls += budget;
          }
        }
        return addTo({ calls, items: 0, representations: carried }, children(node, definition.type, { ...under, entities: counts }));
      }
    }
  }

  function children(node: FieldNode, type: GraphQLOutputType, context: Context): Cost {
    const named = getNamedType(type);
    if (node.selectionSet === undefined || !isCompositeType(named)) return NOTHING;
    return selectionSet(node.selectionSet, named, context);
  }

  try {
    const { calls, items, representations } = selectionSet(root, rootType, { engineLoaded: false });
    const batched = Math.max(0, engineReferenceBudget(engineReferences, options) - engineReferenceCalls);
    return { calls: calls + batched, items, representations, steps };
  } catch (error) {
    if (!(error instanceof OverBudget)) throw error;
    const unbounded = Number.POSITIVE_INFINITY;
    return { calls: unbounded, items: unbounded, representations: unbounded, steps };
  }
}

/** `... on Engine` inside `_entities` runs once per Engine representation, not once per call. */
function narrow(context: Context, from: GraphQLCompositeType, to: GraphQLCompositeType): [number, Context] {
  if (context.entities === undefined || !isAbstractType(from) || from === to) return [1, context];
  return [context.entities.get(to.name) ?? 0, { engineLoaded: context.engineLoaded }];
}

/** Representations per `__typename`, refusing what `_entities` could only fail on. */
function entityCounts(schema: GraphQLSchema, representations: unknown): Map<string, number> {
  const counts = new Map<string, number>();
  if (!Array.isArray(representations)) return counts;
  const entity = schema.getType('_Entity');
  const entityTypes = new Set(
    entity !== undefined && isAbstractType(entity) ? schema.getPossibleTypes(entity).map((t) => t.name) : [],
  );
  representations.forEach((representation: unknown, index) => {
    const typename = (representation as { __typename?: unknown } | null | undefined)?.__typename;
    if (typeof typename !== 'string' || !entityTypes.has(typename)) {
      const names = [...entityTypes].join(', ');
      const message = `representations[${index}] must be an object whose "__typename" is one of: ${names}.`;
      const details = { argumentName: 'representations' };
      throw new GatewayError(ErrorCode.BAD_USER_INPUT, message, { details });
    }
    counts.set(typename, (counts.get(typename) ?? 0) + 1);
  });
  return counts;
}
