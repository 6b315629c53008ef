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

/** Fields of one response name a selection set may hold, and fragments it may spread, its inline fragments'
 * included: graphql-js's OverlappingFieldsCanBeMergedRule compares each pair of them; hundreds held the loop. */
export const MAX_FIELD_REPEATS = 30;
export const MAX_FRAGMENT_SPREADS = 100;

/** Why a selection set holds more than those bounds let validation compare, if one does; a linear walk. */
export function selectionSetExcess(document: DocumentNode): string | undefined {
  const pending: SelectionSetNode[] = [];
  for (const definition of document.definitions) if ('selectionSet' in definition && definition.selectionSet) pending.push(definition.selectionSet);
  for (let set = pending.pop(); set !== undefined; set = pending.pop()) {
    const counts = new Map<string, number>();
    let spreads = 0;
    const inline = [set];
    for (let next = inline.pop(); next !== undefined; next = inline.pop()) {
      for (const selection of next.selections) {
        if (selection.kind === Kind.INLINE_FRAGMENT) inline.push(selection.selectionSet);
        else if (selection.kind === Kind.FRAGMENT_SPREAD && ++spreads > MAX_FRAGMENT_SPREADS) {
          return `A selection set spreads more than ${MAX_FRAGMENT_SPREADS} fragments.`;
        } else if (selection.kind === Kind.FIELD) {
          const name = (selection.alias ?? selection.name).value;
          const count = (counts.get(name) ?? 0) + 1;
          if (count > MAX_FIELD_REPEATS) return `"${name}" is selected more than ${MAX_FIELD_REPEATS} times in one selection set.`;
          counts.set(name, count);
          if (selection.selectionSet) pending.push(selection.selectionSet);
        }
      }
    }
  }
  return undefined;
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
