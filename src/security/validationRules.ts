import { ApolloArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, visit, type ValidationRule } from 'graphql';
import { ErrorCode } from '../errors/codes';

/**
 * Validation rules that refuse an abusive document before anything runs: depth (fragments do not
 * count as a level; introspection exempt) and aliases from GraphQL Armor. Its other protections
 * have better-fitting counterparts here: the parse limit (`maxTokens`), Apollo's hidden
 * suggestions, and the upstream-cost estimate.
 */
export function securityValidationRules(limits: {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly enableIntrospection: boolean;
}): ValidationRule[] {
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

/**
 * ENABLE_INTROSPECTION=false: `__schema` and `__type` are refused with a message that names the
 * setting, in place of Apollo's own rule (whose message is advice for whoever wrote the server);
 * so is federation's `_service { sdl }`, which would hand out the whole schema (routers compose
 * from `npm run schema:print` instead).
 */
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

/**
 * `@defer` and `@stream` are refused with DEFER_NOT_SUPPORTED: Apollo Server 5 delivers them only
 * with a graphql-js 17 pre-release that @apollo/subgraph and graphql-jit do not run on. Reported
 * before graphql-js's "Unknown directive"; formatError restores the code over Apollo's.
 */
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
      // Directive definitions have no place in an executable document; nothing else to look at.
      DirectiveDefinition: () => false,
    });
    return false;
  },
});
