import { ApolloArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, Kind, visit, type DocumentNode, type SelectionSetNode, type ValidationRule } from 'graphql';
import type { GatewayConfig } from '../config/loadConfig';
import { ErrorCode } from '../errors/codes';

type Limits = Pick<GatewayConfig['limits'], 'maxDepth' | 'maxAliases' | 'enableIntrospection'>;

/** Armor's other protections are off: maxTokens, hidden suggestions and the estimate do them here. */
export function securityValidationRules(limits: Limits): ValidationRule[] {
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true },
    maxAliases: { n: limits.maxAliases },
    maxDirectives: { enabled: false },
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  });
  const rules = [NoIncrementalDeliveryRule, ...armor.protect().validationRules];
  if (!limits.enableIntrospection) rules.push(IntrospectionDisabledRule);
  return rules;
}

/** Fields of one response name a selection set may hold, and fragments it may spread, with its inline fragments
 * and the fragments it spreads: graphql-js's OverlappingFieldsCanBeMergedRule compares each pair of them. */
export const MAX_FIELD_REPEATS = 30;
export const MAX_FRAGMENT_SPREADS = 100;

/** Why a selection set holds more than those bounds let validation compare, if one does: each fragment's
 * names are counted once, however often it is spread, so the walk stays linear. */
export function selectionSetExcess(document: DocumentNode): string | undefined {
  const fragments = new Map<string, SelectionSetNode>();
  const pending: SelectionSetNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition.selectionSet);
    if ('selectionSet' in definition && definition.selectionSet) pending.push(definition.selectionSet);
  }
  let excess: string | undefined;
  // `null` while counted: a cycle (invalid anyway) adds nothing.
  const ofFragment = new Map<string, ReadonlyMap<string, number> | null>();
  const fragmentNames = (name: string): ReadonlyMap<string, number> | null => {
    if (!ofFragment.has(name)) {
      ofFragment.set(name, null);
      const set = fragments.get(name);
      ofFragment.set(name, set === undefined ? new Map() : namesOf(set, undefined));
    }
    return ofFragment.get(name)!;
  };
  // The response names `set` selects, its fragments' included; the sets below its fields go to `below`.
  function namesOf(set: SelectionSetNode, below: SelectionSetNode[] | undefined): Map<string, number> {
    const counts = new Map<string, number>();
    const spread = new Set<string>();
    let spreads = 0;
    const inline = [set];
    for (let next = inline.pop(); next !== undefined; next = inline.pop()) {
      for (const selection of next.selections) {
        if (selection.kind === Kind.INLINE_FRAGMENT) inline.push(selection.selectionSet);
        else if (selection.kind === Kind.FRAGMENT_SPREAD) {
          if (++spreads > MAX_FRAGMENT_SPREADS) excess ??= `A selection set spreads more than ${MAX_FRAGMENT_SPREADS} fragments.`;
          spread.add(selection.name.value);
        } else {
          const name = (selection.alias ?? selection.name).value;
          counts.set(name, (counts.get(name) ?? 0) + 1);
          if (selection.selectionSet) below?.push(selection.selectionSet);
        }
      }
    }
    for (const name of spread) for (const [field, n] of fragmentNames(name) ?? []) counts.set(field, (counts.get(field) ?? 0) + n);
    return counts;
  }
  for (let set = pending.pop(); set !== undefined && excess === undefined; set = pending.pop()) {
    for (const [name, count] of namesOf(set, pending)) {
      if (count > MAX_FIELD_REPEATS) return `"${name}" is selected more than ${MAX_FIELD_REPEATS} times in one selection set.`;
    }
  }
  return excess;
}

/** Apollo's own rule's message advises whoever wrote the server; `_service { sdl }` is the whole schema. */
const IntrospectionDisabledRule: ValidationRule = (context) => ({
  Field(node) {
    const name = node.name.value;
    if (name === '__schema' || name === '__type') {
      const message =
        'Introspection is disabled on this gateway (ENABLE_INTROSPECTION=false): the operation selects __schema or __type.';
      context.reportError(new GraphQLError(message, { nodes: [node] }));
    } else if (name === '_service' && context.getParentType()?.name === 'Query') {
      const message = 'The subgraph SDL (`_service`) is not available: introspection is disabled.';
      context.reportError(new GraphQLError(message, { nodes: node }));
    }
  },
});

// Apollo Server 5 delivers @defer/@stream only on a graphql-js 17 pre-release that @apollo/subgraph
// and graphql-jit do not run on. Reported before "Unknown directive"; formatError restores the code.
const NoIncrementalDeliveryRule: ValidationRule = (context) => ({
  Document(document) {
    visit(document, {
      Directive(node) {
        const directive = node.name.value;
        if (directive !== 'defer' && directive !== 'stream') return;
        const message = `@${directive} is not supported: this gateway answers every operation whole. Split the operation into one query per part instead.`;
        const extensions = { code: ErrorCode.DEFER_NOT_SUPPORTED, directive };
        context.reportError(new GraphQLError(message, { nodes: node, extensions }));
      },
      DirectiveDefinition: () => false,
    });
    return false;
  },
});
