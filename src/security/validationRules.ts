import { ApolloArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, visit, type ValidationRule } from 'graphql';
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
