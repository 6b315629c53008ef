import {
  getOperationAST,
  GraphQLError,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type GraphQLSchema,
  type SelectionNode,
  type ValidationRule,
} from 'graphql';
import type { Estimate } from '../security/estimateUpstreamCalls';
import { sha256 } from '../security/persistedQueries';
import { ErrorCode, RequestErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
import { SUBSCRIPTION_FIELDS, type SubscriptionField } from '../observability/subscriptionMetrics';

/** A subscribe message's payload, as graphql-ws hands it over. */
export interface SubscribeRequest {
  readonly query: string;
  readonly operationName?: string | null;
  readonly variables?: Record<string, unknown> | null;
}

export interface AdmissionOptions {
  readonly schema: GraphQLSchema;
  /** Every rule Apollo validates HTTP operations with (see apolloValidationRules). */
  readonly rules: readonly ValidationRule[];
  /** Apollo's parse limit (MAX_TOKENS). */
  readonly maxTokens: number;
  /**
   * Validated documents by the SHA-256 of their text (the HTTP endpoint's document store: the
   * same rules passed): identical subscriptions share one parsed document, parsed once.
   */
  readonly documents: { byHash(hash: string): DocumentNode | undefined; keep(hash: string, document: DocumentNode): void };
  /** PERSISTED_QUERIES=safelist: whether the document whose text has this SHA-256 is in the manifest. */
  readonly safelisted: ((sourceHash: string) => boolean) | undefined;
  /** What one event's execution may cost at worst: upstream calls (the HTTP estimate) and connection items rendered. */
  readonly estimate: (document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | undefined) => Estimate;
  readonly maxUpstreamCalls: number;
  /** SUBSCRIPTION_MAX_ITEMS_PER_EVENT: every event renders them again, for every group. */
  readonly maxItemsPerEvent: number;
}

/** A subscription the gateway will serve. */
export interface AdmittedSubscription {
  readonly document: DocumentNode;
  readonly operationName: string | null | undefined;
  readonly variables: Record<string, unknown> | undefined;
  /** The SHA-256 (hex) of the document's text. */
  readonly hash: string;
  /** The operation's own name (the request may leave it out), for logs. */
  readonly name: string | undefined;
  /** The root field (validation leaves exactly one). */
  readonly field: SubscriptionField;
}

/**
 * The checks a query meets over HTTP, for a document sent over WebSocket: the parse limit, every
 * validation rule (depth, aliases, introspection), the persisted-query safelist and the upstream
 * cost estimate of one event. Over WebSocket only subscriptions are served: queries belong to HTTP,
 * where they are cached and coalesced. Each refusal carries the code HTTP would answer with.
 */
export function admitSubscription(options: AdmissionOptions, request: SubscribeRequest): AdmittedSubscription | readonly GraphQLError[] {
  const variables = request.variables ?? undefined;
  if (variables !== undefined && (typeof variables !== 'object' || Array.isArray(variables))) {
    return [refusal(ErrorCode.BAD_USER_INPUT, '"variables" must be an object.')];
  }
  // One hash of the text: the safelist's key, the document store's and the subscription group's.
  const hash = sha256(request.query);
  if (options.safelisted !== undefined && !options.safelisted(hash)) {
    return [refusal(ErrorCode.PERSISTED_QUERY_NOT_IN_LIST, 'This gateway only runs the operations of its persisted query list, and this is not one of them.')];
  }
  let document = options.documents.byHash(hash);
  if (document === undefined) {
    try {
      document = parse(request.query, { maxTokens: options.maxTokens });
    } catch (error) {
      return [withCode(error, RequestErrorCode.GRAPHQL_PARSE_FAILED)];
    }
    let invalid: readonly GraphQLError[];
    try {
      invalid = validate(options.schema, document, options.rules);
    } catch (error) {
      // graphql-js's single-root-field rule evaluates @skip/@include without the variables and
      // throws when their argument is a variable: a caller's mistake, not the gateway's.
      if (rootDirectives(document, document.definitions.filter(isSubscription).flatMap((operation) => operation.selectionSet.selections))) return [rootDirectiveRefusal()];
      return [withCode(error, RequestErrorCode.GRAPHQL_VALIDATION_FAILED)];
    }
    if (invalid.length > 0) return invalid.map((error) => withCode(error, RequestErrorCode.GRAPHQL_VALIDATION_FAILED));
    options.documents.keep(hash, document);
  }
  const operation = getOperationAST(document, request.operationName);
  if (operation === null || operation === undefined) {
    return [refusal(RequestErrorCode.OPERATION_RESOLUTION_FAILURE, 'The document has no operation of that name (or several, and no name was given).')];
  }
  if (operation.operation !== 'subscription') {
    return [refusal(ErrorCode.OPERATION_NOT_SUPPORTED, 'Only subscriptions are served over WebSocket: send queries over HTTP to this same URL.', { operationType: operation.operation })];
  }
  // The spec forbids them there (a root field skipped leaves no event stream to subscribe to), and
  // graphql-js lets a literal `@skip(if: true)` through validation, then throws while subscribing.
  if (rootDirectives(document, operation.selectionSet.selections)) return [rootDirectiveRefusal()];
  let estimate: Estimate;
  try {
    estimate = options.estimate(document, request.operationName, variables);
  } catch (error) {
    return [withCode(error, ErrorCode.BAD_USER_INPUT)];
  }
  if (estimate.calls > options.maxUpstreamCalls) {
    return [
      refusal(ErrorCode.QUERY_TOO_COMPLEX, `Each event could make up to ${estimate.calls} upstream calls; the limit is ${options.maxUpstreamCalls}.`, {
        estimate: Math.min(estimate.calls, Number.MAX_SAFE_INTEGER),
        limit: options.maxUpstreamCalls,
      }),
    ];
  }
  if (estimate.items > options.maxItemsPerEvent) {
    return [
      refusal(ErrorCode.QUERY_TOO_COMPLEX, `Each event could render up to ${estimate.items} connection items; the limit is ${options.maxItemsPerEvent} (SUBSCRIPTION_MAX_ITEMS_PER_EVENT).`, {
        items: Math.min(estimate.items, Number.MAX_SAFE_INTEGER),
        limit: options.maxItemsPerEvent,
      }),
    ];
  }
  return { document, hash, operationName: request.operationName, name: operation.name?.value, variables, field: rootField(document, operation.selectionSet.selections) };
}

/**
 * The one root field of a valid subscription (SingleFieldSubscriptionsRule), fragments followed:
 * the fragments are indexed once, so a chain of them costs its length.
 */
function rootField(document: DocumentNode, selections: readonly SelectionNode[]): SubscriptionField {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  // Validation has ruled out fragment cycles: the walk ends.
  let current: readonly SelectionNode[] | undefined = selections;
  while (current !== undefined) {
    const selection: SelectionNode | undefined = current[0];
    if (selection === undefined) break;
    if (selection.kind === Kind.FIELD) return asField(selection.name.value);
    current = selection.kind === Kind.INLINE_FRAGMENT ? selection.selectionSet.selections : fragments.get(selection.name.value)?.selectionSet.selections;
  }
  return SUBSCRIPTION_FIELDS[0];
}

/** Whether a root selection of the operation (fragments followed) carries @skip or @include. */
function rootDirectives(document: DocumentNode, selections: readonly SelectionNode[]): boolean {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const seen = new Set<string>();
  const pending = [...selections];
  for (let selection = pending.pop(); selection !== undefined; selection = pending.pop()) {
    if (selection.directives?.some((directive) => directive.name.value === 'skip' || directive.name.value === 'include')) return true;
    if (selection.kind === Kind.INLINE_FRAGMENT) pending.push(...selection.selectionSet.selections);
    else if (selection.kind === Kind.FRAGMENT_SPREAD && !seen.has(selection.name.value)) {
      // A fragment is walked once: spreads that cycle (validation has not run yet) end.
      seen.add(selection.name.value);
      pending.push(...(fragments.get(selection.name.value)?.selectionSet.selections ?? []));
    }
  }
  return false;
}

function rootDirectiveRefusal(): GraphQLError {
  return refusal(RequestErrorCode.GRAPHQL_VALIDATION_FAILED, 'The root field of a subscription may not carry @skip or @include.');
}

function isSubscription(definition: DocumentNode['definitions'][number]): definition is OperationDefinitionNode {
  return definition.kind === Kind.OPERATION_DEFINITION && definition.operation === 'subscription';
}

function asField(name: string): SubscriptionField {
  return (SUBSCRIPTION_FIELDS as readonly string[]).includes(name) ? (name as SubscriptionField) : SUBSCRIPTION_FIELDS[0];
}

function refusal(code: string, message: string, details: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...details } });
}

/**
 * A parse or validation error as Apollo gives it over HTTP: its code, the rule's error kept as
 * `originalError`, so that formatError restores a documented code a rule of ours set
 * (DEFER_NOT_SUPPORTED) on both paths alike.
 */
function withCode(error: unknown, code: string): GraphQLError {
  if (error instanceof GatewayError) return error;
  if (error instanceof GraphQLError) {
    return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, originalError: error, extensions: { ...error.extensions, code } });
  }
  return refusal(code, 'The operation could not be read.');
}
