import { ApolloArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, visit, type ValidationRule } from 'graphql';
import { ErrorCode } from '../errors/codes';

export interface ValidationLimits {
  /** Deepest field nesting allowed (fragments do not count as a level; introspection exempt). */
  readonly maxDepth: number;
  /** Aliases allowed in one operation (fragments included). */
  readonly maxAliases: number;
  /** Whether introspection is on; when it is off, `_service { sdl }` is refused too. */
  readonly introspection: boolean;
}

/**
 * Validation rules that refuse an abusive document before anything runs: depth and aliases from
 * GraphQL Armor. Its other protections have better-fitting counterparts here: the parse limit
 * (`maxTokens`), Apollo's hidden suggestions, and the upstream-cost estimate.
 */
export function securityValidationRules(limits: ValidationLimits): ValidationRule[] {
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true },
    maxAliases: { n: limits.maxAliases },
    maxDirectives: { enabled: false },
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  });
  const rules = [NoIncrementalDeliveryRule, ...armor.protect().validationRules];
  if (!limits.introspection) rules.push(IntrospectionDisabledRule, NoServiceSdlRule);
  return rules;
}

/**
 * ENABLE_INTROSPECTION=false: `__schema` and `__type` are refused, with a message that names the
 * setting, in place of Apollo's own rule (whose message is advice for whoever wrote the server).
 */
export const IntrospectionDisabledRule: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '__schema' || node.name.value === '__type') {
      context.reportError(
        new GraphQLError('Introspection is disabled on this gateway (ENABLE_INTROSPECTION=false): the operation selects __schema or __type.', {
          nodes: [node],
        }),
      );
    }
  },
});

/**
 * With introspection off, the federation `_service { sdl }` field would still hand out the whole
 * schema; it follows the same switch. Routers compose from `npm run schema:print` instead.
 */
export const NoServiceSdlRule: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '_service' && context.getParentType()?.name === 'Query') {
      context.reportError(
        new GraphQLError('The subgraph SDL (`_service`) is not available: introspection is disabled.', { nodes: node }),
      );
    }
  },
});

/** The directives of incremental delivery (the GraphQL incremental delivery RFC), by name. */
const INCREMENTAL_DIRECTIVES: ReadonlySet<string> = new Set(['defer', 'stream']);

/**
 * `@defer` and `@stream` are refused with DEFER_NOT_SUPPORTED: Apollo Server 5 delivers them only
 * with a graphql-js 17 pre-release that @apollo/subgraph and graphql-jit do not run on. Reported
 * before graphql-js's "Unknown directive"; formatError restores the code over Apollo's.
 */
export const NoIncrementalDeliveryRule: ValidationRule = (context) => ({
  Document(document) {
    visit(document, {
      Directive(node) {
        if (!INCREMENTAL_DIRECTIVES.has(node.name.value)) return;
        context.reportError(
          new GraphQLError(`@${node.name.value} is not supported: this gateway answers every operation whole. Split the operation into one query per part instead.`, {
            nodes: node,
            extensions: { code: ErrorCode.DEFER_NOT_SUPPORTED, directive: node.name.value },
          }),
        );
      },
      // Directive definitions have no place in an executable document; nothing else to look at.
      DirectiveDefinition: () => false,
    });
    return false;
  },
});
