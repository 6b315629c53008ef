import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import {
  getNamedType,
  getOperationAST,
  GraphQLError,
  isLeafType,
  Kind,
  OverlappingFieldsCanBeMergedRule,
  specifiedRules,
  TypeInfo,
  validate,
  ValuesOfCorrectTypeRule,
  visit,
  visitWithTypeInfo,
  type ASTNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type Location,
  type OperationDefinitionNode,
  type SelectionNode,
  type Token,
  type ValidationRule,
} from 'graphql';
import { Parser } from 'graphql/language/parser';
import { LRUCache } from 'lru-cache';
import { ErrorCode, RequestErrorCode } from '../errors/codes';
import { GatewayError } from '../errors/GatewayError';
import { refusalOf } from '../errors/refusedText';
import { requestErrorStatus } from '../graphql/answerStatus';
import { documentBytes, weigh, type DocumentStore, type ParsedWeight } from '../graphql/documentStore';
import { documentShape, type ShapeLiteral } from '../graphql/execution/documentShape';
import { fragmentsOf } from '../graphql/execution/expandedSize';
import type { GatewayConfig } from '../config/loadConfig';
import type { GatewayContext } from '../graphql/context';
import { tagError } from '../observability/requestRecord';
import { SUBSCRIPTION_FIELDS, type SubscriptionField } from '../observability/metrics';
import { coerceVariables, createEstimator, type Estimate } from './estimateUpstreamCalls';
import { sha256 } from './persistedQueries';
import { securityValidationRules, selectionSetExcess } from './validationRules';

export type Transport = 'http' | 'websocket';

export interface OperationRequest {
  readonly query: string;
  readonly operationName?: string | null;
  readonly variables?: Record<string, unknown> | null;
}

export type Refusal = readonly GraphQLError[];

export type Admission = ReturnType<typeof createAdmission>;

/** `safelisted`: a manifest operation's text, whose name may take a metrics label. */
export type AdmittedOperation = Exclude<ReturnType<Admission['admit']>, Refusal>;

/** The specified rules that read the literals a shape leaves out: all a known valid shape needs. */
const LITERAL_RULES: readonly ValidationRule[] = [ValuesOfCorrectTypeRule, OverlappingFieldsCanBeMergedRule];

/** Every check before an operation runs, alike over HTTP and WebSocket but for the type served. */
export function createAdmission(
  config: Pick<GatewayConfig, 'nodeEnv' | 'limits' | 'upstream' | 'subscriptions'>,
  schema: GraphQLSchema,
  store: DocumentStore,
  safelisted?: (sourceHash: string) => boolean,
) {
  const { nodeEnv, limits, upstream, subscriptions } = config;
  const rules = securityValidationRules(limits);
  const hideSuggestions = nodeEnv === 'production' || !limits.enableIntrospection;
  const allRules = [...specifiedRules, ...rules];
  // Valid shapes with their literals' input types (`false`: fields may merge); clients have few.
  const validShapes = new LRUCache<string, readonly GraphQLInputType[] | false>({ max: 10_000 });
  const estimate = createEstimator(schema, { ...upstream.paging, ...limits.entities });

  /** `fresh`: parsed here, not from the store. */
  function documentOf(query: string, hash: string, transport: Transport): { document: DocumentNode; fresh: boolean } | Refusal {
    // Over HTTP, Apollo takes the refusal from the store next, instead of parsing and validating the text.
    const refusedText = (errors: GraphQLError[], held: DocumentNode | string): Refusal => {
      if (transport === 'http') store.handOffRefusal(hash, errors.map((error) => forHttp(error)), held);
      return errors;
    };
    const stored = store.byHash(hash);
    // The key is the text's hash; the text itself decides, should a key ever come from elsewhere.
    if (stored !== undefined && stored.loc?.source.body === query) return { document: stored, fresh: false };
    let document: DocumentNode;

    try {
      const parser = new OffsetParser(query, { maxTokens: limits.maxTokens });
      document = parser.parseDocument();
      weigh(document, parser);
    } catch (error) {
      return refusedText([withCode(error, RequestErrorCode.GRAPHQL_PARSE_FAILED)], query);
    }
    let invalid: readonly GraphQLError[];
    try {
      const { key, literals } = documentShape(document);
      const types = validShapes.get(key);
      const known = types !== undefined;
      // A shape known valid repeats no field past the bound.
      const excess = known ? undefined : selectionSetExcess(document);
      if (excess !== undefined) return [thrownAtSource(refusal(RequestErrorCode.GRAPHQL_VALIDATION_FAILED, excess))];
      if (known && types !== false && literals.every((node, i) => validLiteral(node, types[i]!))) invalid = [];
      else invalid = validate(schema, document, known ? LITERAL_RULES : allRules, { hideSuggestions });
      if (invalid.length === 0 && !known) validShapes.set(key, literalTypes(schema, document, literals));
    } catch {
      // graphql-js 16's SingleFieldSubscriptionsRule throws on @skip/@include with a variable on a
      // subscription's root field; the spec draft (and graphql-js 17) refuses them as invalid.
      const roots = document.definitions.flatMap((definition) =>
        definition.kind === Kind.OPERATION_DEFINITION && definition.operation === 'subscription'
          ? definition.selectionSet.selections
          : [],
      );
      if (rootDirectives(rootSelections(fragmentsOf(document), roots))) return [thrownAtSource(rootDirectiveRefusal())];
      return [thrownAtSource(refusal(RequestErrorCode.GRAPHQL_VALIDATION_FAILED, 'The document could not be validated.'))];
    }
    if (invalid.length > 0) return refusedText(invalid.map((e) => withCode(e, RequestErrorCode.GRAPHQL_VALIDATION_FAILED)), document);
    // Over HTTP, Apollo takes the document from the store next.
    if (transport === 'http') store.handOff(hash, document);
    return { document, fresh: true };
  }

  /** `queryHash`: Apollo's key for the text (its SHA-256, or the persisted query id Apollo took the text
   * by), the document store's key too; never a client's word. Absent, the text's SHA-256. */
  function admit(request: OperationRequest, transport: Transport, queryHash?: string) {
    const { query, operationName } = request;
    const variables = request.variables ?? undefined;
    if (variables !== undefined && (typeof variables !== 'object' || Array.isArray(variables))) {
      return [refusal(ErrorCode.BAD_USER_INPUT, '"variables" must be an object.')];
    }
    const hash = queryHash ?? sha256(query);
    const parsed = documentOf(query, hash, transport);
    if (Array.isArray(parsed)) return parsed;
    const { document: valid, fresh } = parsed as { document: DocumentNode; fresh: boolean };
    const operation = getOperationAST(valid, operationName);
    if (!operation) return [operationResolutionRefusal(valid, operationName)];
    const listed = safelisted?.(queryHash === undefined ? hash : sha256(query)) ?? false;
    const introspecting = () => limits.enableIntrospection && isSchemaOnly(valid, operation);
    if (safelisted !== undefined && !listed && !introspecting()) {
      const message = 'This gateway only runs the operations of its persisted query list, and this is not one of them.';
      return [refusal(ErrorCode.PERSISTED_QUERY_NOT_IN_LIST, message)];
    }
    const subscription = operation.operation === 'subscription';
    const roots = subscription ? rootSelections(fragmentsOf(valid), operation.selectionSet.selections) : [];
    // graphql-js lets a literal `@skip(if: true)` there through validation, then throws subscribing.
    if (rootDirectives(roots)) return [rootDirectiveRefusal()];
    const coerced = coerceVariables(schema, operation, variables, hideSuggestions);
    let cost: Estimate;
    try {
      cost = estimate(valid, operation, coerced);
    } catch (error) {
      // Malformed `_entities` representations: the caller's input, refused as a whole.
      if (error instanceof GatewayError) return [error];
      throw error;
    }
    // Each representation is resolved and answered (the field fails once when the upstream refuses the
    // token): CPU the call estimate does not see, since engine references cost list pages. `_entities` answers
    // one item per representation: the bound of the items one list may answer. An unbounded walk is
    // the calls' refusal, below.
    const { maxListItems } = limits.budget;
    if (Number.isFinite(cost.representations) && cost.representations > maxListItems) {
      const message =
        `The operation carries ${cost.representations} _entities representations; the limit is ${maxListItems} ` +
        '(MAX_LIST_ITEMS). Send fewer in one request.';
      return [refusal(ErrorCode.QUERY_TOO_COMPLEX, message, { representations: cost.representations, limit: maxListItems })];
    }
    const { maxUpstreamCalls: limit } = limits;
    if (cost.calls > limit) {
      const calls = Number.isFinite(cost.calls) ? cost.calls : 'an unbounded number of';
      const message =
        `The operation could make up to ${calls} upstream calls; the limit is ${limit}. ` +
        'Ask for smaller pages (first/last) or fewer nested lists.';
      // JSON has no Infinity: an estimate past any count is the largest exact integer.
      const estimated = Math.min(cost.calls, Number.MAX_SAFE_INTEGER);
      return [refusal(ErrorCode.QUERY_TOO_COMPLEX, message, { estimate: estimated, limit })];
    }
    const { maxItemsPerEvent } = subscriptions;
    if (subscription && cost.items > maxItemsPerEvent) {
      const message =
        `Each event could render up to ${cost.items} connection items; ` +
        `the limit is ${maxItemsPerEvent} (SUBSCRIPTION_MAX_ITEMS_PER_EVENT).`;
      const items = Math.min(cost.items, Number.MAX_SAFE_INTEGER);
      return [refusal(ErrorCode.QUERY_TOO_COMPLEX, message, { items, limit: maxItemsPerEvent })];
    }
    // Last, so that everything else is answered alike over both transports.
    if (operation.operation !== (transport === 'http' ? 'query' : 'subscription')) {
      return [operationTypeRefusal(operation.operation, transport)];
    }
    // Refused here, not by execution: its coercion reports 50 errors, each quoting the whole value.
    if (coerced.errors !== undefined) return [variablesRefusal(coerced.errors[0]!)];
    const field = subscription ? rootField(roots) : SUBSCRIPTION_FIELDS[0];
    const name = operation.name?.value;
    // Only those the operation declares: subscriptions are grouped by them, and others are never read.
    const declared = Object.fromEntries(
      (operation.variableDefinitions ?? []).flatMap(({ variable: { name: { value } } }) =>
        variables !== undefined && Object.hasOwn(variables, value) ? [[value, variables[value]]] : [],
      ),
    );
    // Only now: a document refused for its type, cost or list is not kept for anyone.
    if (fresh) store.keep(hash, valid);
    const bytes = documentBytes(valid);
    // Connection items and `_entities` answered at worst: whether its answer is a small one (OperationBudget).
    const items = cost.items + cost.representations;
    return { document: valid, hash, operationName, name, variables: declared, safelisted: listed, field, bytes, items };
  }

  return { rules, hideSuggestions, admit };
}

// graphql-js's parse, but a location keeps its offsets, source and start (what errors and graphql-jit
// read), not the tokens, which link every token of the text: a document is held, and copied, while it runs.
class OffsetParser extends Parser implements ParsedWeight {
  /** What the document store sizes a document by. */
  nodes = 0;
  stringChars = 0;

  override node<T extends { loc?: Location }>(startToken: Token, node: T): T {
    this.nodes += 1;
    const { kind, value } = node as { kind?: Kind; value?: unknown };
    if (kind === Kind.STRING) this.stringChars += (value as string).length;
    const { lastToken, source } = this._lexer;
    // The lexer's line and column, as graphql-jit reads them: counting the lines again is linear.
    const start = { line: startToken.line, column: startToken.column };
    const loc = { start: startToken.start, end: lastToken.end, source, startToken: start, toJSON: offsets };
    node.loc = loc as unknown as Location;
    return node;
  }
}

/** As graphql-js's Location is written: not the whole source in every node. */
function offsets(this: { start: number; end: number }) {
  return { start: this.start, end: this.end };
}

/** Each literal's input type, or `false` where fields may merge (then two rules read literals). */
function literalTypes(schema: GraphQLSchema, document: DocumentNode, literals: readonly ShapeLiteral[]) {
  const typeInfo = new TypeInfo(schema);
  const types = new Map<ASTNode, GraphQLInputType | null | undefined>();
  const record = (node: ASTNode) => void types.set(node, typeInfo.getInputType());
  let merges = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      FragmentSpread: () => void (merges = true),
      InlineFragment: () => void (merges = true),
      SelectionSet: ({ selections }) => {
        const names = selections.map((it) => (it.kind === Kind.FIELD ? (it.alias ?? it.name).value : ''));
        if (new Set(names).size < names.length) merges = true;
      },
      IntValue: record,
      FloatValue: record,
      StringValue: record,
    }),
  );
  const found = literals.map((node) => types.get(node));
  return merges || found.some((type) => type == null) ? false : (found as GraphQLInputType[]);
}

function validLiteral(node: ShapeLiteral, type: GraphQLInputType): boolean {
  const named = getNamedType(type);
  if (!isLeafType(named)) return false;
  try {
    return named.parseLiteral(node, undefined) !== undefined;
  } catch {
    return false;
  }
}

/** Refusals thrown from didResolveSource, answered as Apollo answers a validation that throws (through
 * `unexpectedErrorProcessingRequest`: one error, no Cache-Control): where graphql-js's validation throws,
 * and a selection set past its bound, whose answer keeps that form. */
const THROWN_AT_SOURCE = new WeakSet<GraphQLError>();

function thrownAtSource(error: GraphQLError): GraphQLError {
  THROWN_AT_SOURCE.add(error);
  return error;
}

/** A text refused at parsing or validation reaches Apollo as its stand-in (`DocumentStore.handOffRefusal`),
 * answered by the execution plugin; other refusals are thrown once the operation is resolved, or from
 * didResolveSource. Refused credentials may still introspect (codegen, IDEs). */
export function admissionPlugin(admission: Admission): ApolloServerPlugin<GatewayContext> {
  const refusals = new WeakMap<GraphQLRequestContext<GatewayContext>, Refusal>();
  return {
    async requestDidStart() {
      let verdict: AdmittedOperation | Refusal | undefined;
      return {
        async didResolveSource(requestContext) {
          const { source, queryHash, request } = requestContext;
          const { operationName, variables } = request;
          verdict = admission.admit({ query: source, operationName, variables }, 'http', queryHash);
          if (!Array.isArray(verdict)) return;
          refusals.set(requestContext, verdict);
          // Apollo registers a persisted query after its validation and didResolveOperation, which a refused
          // text's stand-in passes; every other refusal is thrown before.
          requestContext.metrics.persistedQueryRegister = false;
          const refused = (verdict as Refusal)[0]!;
          if (THROWN_AT_SOURCE.has(refused)) throw refused;
          // Apollo answers a GET of a subscription 405 before didResolveOperation (the spec: of a mutation).
          const subscription = refused.extensions.operationType === 'subscription';
          if (subscription && request.http?.method === 'GET') throw refused;
        },
        async didResolveOperation({ contextValue, operation, document }) {
          // A refused text's stand-in: refused before credentials are, as Apollo refuses a document that fails.
          if (refusalOf(document) !== undefined) return;
          const credentials = contextValue.credentialRefusal;
          if (credentials !== undefined && (operation === undefined || !isSchemaOnly(document, operation))) {
            throw credentials;
          }
          if (verdict === undefined) return;
          if (Array.isArray(verdict)) throw forHttp((verdict as Refusal)[0]!);
          if ((verdict as AdmittedOperation).safelisted) contextValue.facts.markSafelisted();
          contextValue.budget.expectItems((verdict as AdmittedOperation).items);
        },
      };
    },
    async unexpectedErrorProcessingRequest({ requestContext }) {
      const refused = refusals.get(requestContext)?.[0];
      if (refused === undefined) return;
      const record = requestContext.contextValue.record;
      if (record !== undefined) tagError(refused, record.requestId);
      record?.telemetry?.facts.recordErrors([refused]);
      // Thrown past the pipeline's willSendResponse: the status is decided here. In a batch it fails the
      // whole batch (Apollo answers this one error, not an array): no GraphQL answer to the batch, a 400.
      const accept = requestContext.request.http?.headers.get('accept');
      throw forHttp(refused, requestContext.requestIsBatched ? 400 : requestErrorStatus(400, [refused.extensions.code], accept));
    },
  };
}

/** Apollo reads `extensions.http` for the status of an error thrown from a hook (500 otherwise). */
function forHttp(error: GraphQLError, status = 400): GraphQLError {
  error.extensions.http = { status };
  return error;
}

export function isSchemaOnly(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  const fragments = fragmentsOf(document);
  return rootSelections(fragments, operation.selectionSet.selections).every((selection) => {
    // `_service { sdl }` is the schema too, and follows ENABLE_INTROSPECTION with it.
    if (selection.kind === Kind.FIELD) return selection.name.value.startsWith('__') || selection.name.value === '_service';
    return selection.kind !== Kind.FRAGMENT_SPREAD || fragments.has(selection.name.value);
  });
}

/** Fragments followed once each: linear, and ends on cycles (validation may not have run). */
function rootSelections(
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  selections: readonly SelectionNode[],
): SelectionNode[] {
  const seen = new Set<string>();
  const found: SelectionNode[] = [];
  const pending = [...selections].reverse();
  for (let selection = pending.pop(); selection !== undefined; selection = pending.pop()) {
    found.push(selection);
    let inner: readonly SelectionNode[] = [];
    if (selection.kind === Kind.INLINE_FRAGMENT) inner = selection.selectionSet.selections;
    else if (selection.kind === Kind.FRAGMENT_SPREAD && !seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      inner = fragments.get(selection.name.value)?.selectionSet.selections ?? [];
    }
    pending.push(...[...inner].reverse());
  }
  return found;
}

function rootField(roots: readonly SelectionNode[]): SubscriptionField {
  const field = roots.find(({ kind }) => kind === Kind.FIELD);
  const name = field?.kind === Kind.FIELD ? field.name.value : '';
  const known = (SUBSCRIPTION_FIELDS as readonly string[]).includes(name);
  return known ? (name as SubscriptionField) : SUBSCRIPTION_FIELDS[0];
}

function rootDirectives(roots: readonly SelectionNode[]): boolean {
  const skips = ({ name }: { name: { value: string } }) => name.value === 'skip' || name.value === 'include';
  return roots.some((selection) => selection.directives?.some(skips));
}

function rootDirectiveRefusal(): GraphQLError {
  const message = "A subscription's root field cannot be skipped or included (@skip/@include).";
  return refusal(RequestErrorCode.GRAPHQL_VALIDATION_FAILED, message);
}

/** graphql-js's own words, as execution would refuse the operation. */
function operationResolutionRefusal(document: DocumentNode, operationName: string | null | undefined) {
  const operations = document.definitions.filter(({ kind }) => kind === Kind.OPERATION_DEFINITION).length;
  const message =
    operationName !== undefined && operationName !== null
      ? `Unknown operation named "${operationName}".`
      : operations === 0
        ? 'Must provide an operation.'
        : 'Must provide operation name if query contains multiple operations.';
  return refusal(RequestErrorCode.OPERATION_RESOLUTION_FAILURE, message);
}

/** graphql-js would fail a mutation (the schema has none) during execution, with no code. */
function operationTypeRefusal(type: OperationDefinitionNode['operation'], transport: Transport) {
  const message =
    type === 'mutation'
      ? 'This gateway has no mutations: it only reads.'
      : transport === 'http'
        ? 'Subscriptions are not served over HTTP by this gateway: open a WebSocket (graphql-transport-ws) to this same URL.'
        : 'Only subscriptions are served over WebSocket: send queries over HTTP to this same URL.';
  return refusal(ErrorCode.OPERATION_NOT_SUPPORTED, message, { operationType: type });
}

function refusal(code: string, message: string, details: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...details } });
}

/** Past this, graphql-js's message has its quote of the variable's value cut: the caller sent it. */
const MAX_VARIABLE_MESSAGE_CHARS = 1_000;

/** graphql-js's message, with its reason kept whole and its quote of a long value cut. */
function variablesRefusal(error: GraphQLError): GraphQLError {
  const reason = error.originalError?.message ?? '';
  if (error.message.length <= MAX_VARIABLE_MESSAGE_CHARS) return withCode(error, ErrorCode.BAD_USER_INPUT);
  const quote = error.message.slice(0, MAX_VARIABLE_MESSAGE_CHARS / 2);
  const message = `${quote}…; ${reason.slice(0, MAX_VARIABLE_MESSAGE_CHARS / 2)}`;
  return withCode(new GraphQLError(message, { nodes: error.nodes, originalError: error.originalError }), ErrorCode.BAD_USER_INPUT);
}

/** The rule's error kept as `originalError`, as Apollo does: formatError restores DEFER_NOT_SUPPORTED. */
function withCode(error: unknown, code: string): GraphQLError {
  if (!(error instanceof GraphQLError)) return refusal(code, 'The operation could not be read.');
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    originalError: error,
    extensions: { ...error.extensions, code },
  });
}
