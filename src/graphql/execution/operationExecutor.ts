import {
  HeaderMap,
  type ApolloServerPlugin,
  type BaseContext,
  type GraphQLRequestContextResponseForOperation,
  type GraphQLRequestListener,
  type GraphQLResponse,
  type HTTPGraphQLHead,
} from '@apollo/server';
import {
  execute,
  GraphQLError,
  Kind,
  type GraphQLFormattedError,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';
import type { GatewayConfig } from '../../config/loadConfig';
import { ErrorCode, RequestErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';
import { refusalOf } from '../../errors/refusedText';
import { canonicalDocument, literalVariables } from './canonicalDocument';
import { documentShape, type DocumentShape } from './documentShape';
import { collapseRepeatedFailures } from './operationBudget';
import { expandedFieldCount } from './expandedSize';

/** Runs operations for Apollo Server (`executionPlugin`): GRAPHQL_EXECUTOR, described in docs/architecture.md. */
export type OperationExecutor = (request: ExecutorRequest) => Promise<ExecutionResult>;

/** `operation`: Apollo's, resolved from `document` (undefined when it could not: graphql-js refuses).
 * `batched`: one of a batch's operations, which share one budget: interpreted, since a compiled run
 * that meets errors is run again from a fresh count of the bytes sent, the others' included. */
type ExecutorRequest = { readonly operation: OperationDefinitionNode | undefined; readonly batched?: boolean } &
  Pick<ExecutionArgs, 'document' | 'operationName' | 'variableValues' | 'contextValue'>;

type OperationExecutorOptions = GatewayConfig['limits']['executor'] & {
  /** Never the value: it is upstream content. */
  readonly onUnrepresentable?: (
    value: { readonly path: readonly (string | number)[]; readonly type: string },
    contextValue: unknown,
  ) => void;
  readonly onExecuted?: (how: 'compiled' | 'interpreted') => void;
  readonly onCompiled?: (durationMs: number) => void;
  /** A compiled run met errors: graphql-js makes the answer again, in the same context. */
  readonly onRerun?: (contextValue: unknown) => void;
  /** graphql-js's: no "Did you mean" naming the schema in input coercion errors. */
  readonly hideSuggestions?: boolean;
};

/** Past this many fields with fragments inlined, interpret: graphql-jit's work grows with them. */
const MAX_COMPILED_FIELDS = 300;
const HOT_WINDOW_MS = 60_000;
/** A compiled plan's size per inlined field (source and closures). */
const PLAN_BYTES_PER_FIELD = 1024;
const MAX_COUNTED_SHAPES = 10_000;
/** Compiles waiting off the request path; more are dropped (asked for again later). */
const MAX_PENDING_COMPILES = 32;
/** A field merged from many copies of itself has a node for each, and each of its errors (one per list
 * item) would name every copy's location: this many are named. */
export const MAX_ERROR_LOCATIONS = 10;

/** An execution error as answered, HTTP and WebSocket alike: at most MAX_ERROR_LOCATIONS locations. */
export function answeredLocations(error: GraphQLFormattedError): GraphQLFormattedError {
  if (error.locations === undefined || error.locations.length <= MAX_ERROR_LOCATIONS) return error;
  return { ...error, locations: error.locations.slice(0, MAX_ERROR_LOCATIONS) };
}

/** graphql-js's messages for a leaf value its type cannot represent: the upstream broke its contract. */
const LEAF_FAILURES: readonly RegExp[] = [
  /^(String|Int|Float|Boolean|ID) cannot represent /,
  /^Enum "([_A-Za-z][_0-9A-Za-z]*)" cannot represent /,
  /^(DateTime|JSON) cannot represent /,
  /^Expected `([_A-Za-z][_0-9A-Za-z]*)\.serialize\(/,
];

export function createOperationExecutor(
  schema: GraphQLSchema,
  options: OperationExecutorOptions,
): OperationExecutor {
  const interpreted = (request: ExecutorRequest) => {
    options.onExecuted?.('interpreted');
    return execute({ schema, ...request, hideSuggestions: options.hideSuggestions });
  };
  const run: OperationExecutor = options.mode === 'adaptive'
    ? adaptiveRunner(schema, options, interpreted)
    : async (request) => interpreted(request);

  return async (request) => {
    const ran = await run(request);
    if (ran.errors === undefined) return ran;
    const collapsed = collapseRepeatedFailures(ran.errors);
    const result = collapsed === undefined ? ran : { ...ran, errors: collapsed };
    let converted: GraphQLError[] | undefined;
    result.errors!.forEach((error, index) => {
      // Input coercion fails before execution, without a path.
      if (error.path === undefined) return;
      const type = LEAF_FAILURES.map((pattern) => pattern.exec(error.message)).find(Boolean)?.[1];
      if (type === undefined) return;
      // graphql-js quotes the value whole.
      const message = `The upstream sent a value this field cannot represent as ${type}.`;
      const cause = new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, message);
      converted ??= [...result.errors!];
      const { nodes, path } = error;
      const extensions = cause.extensions;
      converted[index] = new GraphQLError(message, { nodes, path, originalError: cause, extensions });
      options.onUnrepresentable?.({ path: path!, type }, request.contextValue);
    });
    return converted === undefined ? result : { ...result, errors: converted };
  };
}

function adaptiveRunner(
  schema: GraphQLSchema,
  options: OperationExecutorOptions,
  interpreted: (request: ExecutorRequest) => Promise<ExecutionResult> | ExecutionResult,
): OperationExecutor {
  // `compiled: null`: the shape is interpreted for good.
  const plans = new LRUCache<string, { compiled: CompiledQuery | null; numeric: readonly boolean[] }>({
    maxSize: options.plansMaxBytes,
  });
  const uses = new LRUCache<string, { count: number; since: number }>({ max: MAX_COUNTED_SHAPES });
  const pending = new Set<string>();

  const compile = (key: string, document: DocumentNode, shape: DocumentShape, name: string | undefined) => {
    const canonical = canonicalDocument(schema, document, shape);
    const started = performance.now();
    const fields = canonical === undefined ? Infinity : expandedFieldCount(canonical.document, name);
    // Required at the first compile, off the request path: a process with no hot shape never loads it.
    const { compileQuery, isCompiledQuery } = require('graphql-jit') as typeof import('graphql-jit');
    const query = fields > MAX_COMPILED_FIELDS ? undefined : compileQuery(schema, canonical!.document, name);
    if (query === undefined || !isCompiledQuery(query)) {
      plans.set(key, { compiled: null, numeric: [] }, { size: 64 });
      return;
    }
    options.onCompiled?.(performance.now() - started);
    const size = Math.max(1, fields) * PLAN_BYTES_PER_FIELD;
    plans.set(key, { compiled: query, numeric: canonical!.numeric }, { size });
  };

  const used = (key: string, document: DocumentNode, shape: DocumentShape, name: string | undefined) => {
    const now = performance.now();
    let seen = uses.get(key);
    if (seen === undefined || now - seen.since > HOT_WINDOW_MS) {
      uses.set(key, (seen = { count: 0, since: now }));
    }
    seen.count += 1;
    if (seen.count < options.compileAfterUses || pending.has(key)) return;
    if (pending.size >= MAX_PENDING_COMPILES) return;
    pending.add(key);
    // After the response that made the shape hot.
    setImmediate(() => {
      pending.delete(key);
      if (plans.has(key)) return;
      compile(key, document, shape, name);
      uses.delete(key);
    });
  };

  return async (request) => {
    if (request.batched === true) return interpreted(request);
    const shape = documentShape(request.document);
    // The shape names every operation in order: with the operation's place, a key of fixed size.
    const { operation } = request;
    const place = operation === undefined ? -1 : request.document.definitions.indexOf(operation);
    if (place < 0) return interpreted(request);
    const key = `${place}:${shape.key}`;
    const operationName = request.operationName ?? undefined;
    const plan = plans.get(key);
    if (plan === undefined) {
      used(key, request.document, shape, operationName);
      return interpreted(request);
    }
    if (plan.compiled === null) return interpreted(request);
    const variables = literalVariables(shape.literals, plan.numeric, request.variableValues);
    if (variables === undefined) return interpreted(request);
    options.onExecuted?.('compiled');
    const result = await plan.compiled.query(undefined, request.contextValue, variables);
    // No `data` at all: the variables were refused before execution started.
    if ('data' in result && result.errors === undefined) return result;
    options.onRerun?.(request.contextValue);
    return interpreted(request);
  };
}

/** Apollo's `didEncounterErrors` and formatting, which it skips for a response a plugin made. */
type ExecutionPluginOptions<TContext> = {
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  readonly includeStacktraceInErrorResponses: boolean;
  /** Before the errors are formatted, as Apollo calls `didEncounterErrors`. */
  readonly didEncounterErrors: (contextValue: TContext, errors: readonly GraphQLError[]) => void;
  /** An operation's `data`, before Apollo writes it. */
  readonly didExecute?: (contextValue: TContext, data: unknown) => void;
};

/**
 * Runs every operation in Apollo's `responseForOperation` hook, so Apollo's own execution never
 * starts: no gateway request context (an object of accessors reaching the whole request, kept
 * through young collections), no second parse of Accept, no execution hooks. First among the
 * plugins, so Apollo asks no other. What Apollo does after its executor is done here the same way
 * (bench/README.md, "Execution in responseForOperation").
 */
export function executionPlugin<TContext extends BaseContext>(
  executor: OperationExecutor,
  options: ExecutionPluginOptions<TContext>,
): ApolloServerPlugin<TContext> {
  const answer = (requestContext: GraphQLRequestContextResponseForOperation<TContext>, errors: readonly GraphQLError[]) => {
    (requestContext as { errors?: readonly GraphQLError[] }).errors = errors;
    options.didEncounterErrors(requestContext.contextValue, errors);
    return formatErrors(errors, options);
  };
  const failed = (requestContext: GraphQLRequestContextResponseForOperation<TContext>, errors: readonly GraphQLError[]): GraphQLResponse => {
    const { formattedErrors, http } = answer(requestContext, errors);
    if (!http.status && !requestContext.response.http.status) http.status = 500;
    return { http, body: { kind: 'single', singleResult: { errors: formattedErrors } } };
  };
  const respond = async (requestContext: GraphQLRequestContextResponseForOperation<TContext>): Promise<GraphQLResponse> => {
    const { document, operation, request, contextValue } = requestContext;
    // A text admission refused, taken by Apollo in place of parsing and validating it: its errors, as
    // Apollo answers a document that fails.
    const refused = refusalOf(document);
    if (refused !== undefined) return failed(requestContext, refused);
    let result: ExecutionResult;
    try {
      result = await executor({
        document,
        operation,
        batched: requestContext.requestIsBatched,
        // Not Apollo's resolved name, `null` for an unknown one (which would run the only operation).
        operationName: request.operationName ?? null,
        variableValues: request.variables,
        contextValue,
      });
      // Admission refuses an operation Apollo could not resolve: graphql-js's refusal, as Apollo words it.
      if (operation === undefined) throw operationResolutionError(result);
    } catch (thrown) {
      return failed(requestContext, [ensureGraphQLError(thrown)]);
    }
    options.didExecute?.(contextValue, result.data);
    if (result.errors === undefined) return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: result } };
    const errors = result.errors.map((error) => (isBadUserInputError(error) ? userInputError(error) : error));
    const { formattedErrors, http } = answer(requestContext, errors);
    for (const [i, error] of formattedErrors.entries()) formattedErrors[i] = answeredLocations(error);
    // Apollo's status400ForVariableCoercionErrors, the default since Apollo Server 5.
    if (errors.length > 0 && result.data === undefined && !http.status) http.status = 400;
    return { http, body: { kind: 'single', singleResult: { ...result, errors: formattedErrors } } };
  };
  const listener: GraphQLRequestListener<TContext> = { responseForOperation: respond };
  return { requestDidStart: async () => listener };
}

/** Apollo's normalizeAndFormatErrors: a code for each error, its `extensions.http` into the response's head. */
function formatErrors(errors: readonly GraphQLError[], options: ExecutionPluginOptions<never>) {
  const http: HTTPGraphQLHead = { status: undefined, headers: new HeaderMap() };
  const enrich = (thrown: unknown): GraphQLFormattedError => {
    const error = ensureGraphQLError(thrown);
    const extensions: Record<string, unknown> = { ...error.extensions, code: error.extensions.code ?? ErrorCode.INTERNAL_SERVER_ERROR };
    if (isPartialHead(extensions.http)) {
      if (extensions.http.status) http.status = extensions.http.status;
      for (const [name, value] of extensions.http.headers ?? []) http.headers.set(name, value);
      delete extensions.http;
    }
    if (options.includeStacktraceInErrorResponses) extensions.stacktrace = error.stack?.split('\n');
    return { ...error.toJSON(), extensions };
  };
  const formattedErrors = errors.map((error) => {
    try {
      return options.formatError(enrich(error), error);
    } catch (formattingError) {
      if (options.includeStacktraceInErrorResponses) return enrich(formattingError);
      return { message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
    }
  });
  return { formattedErrors, http };
}

function isPartialHead(value: unknown): value is { status?: number; headers?: Map<string, string> } {
  if (typeof value !== 'object' || value === null) return false;
  const head = value as { status?: unknown; headers?: unknown };
  return (!('status' in head) || typeof head.status === 'number') && (!('headers' in head) || head.headers instanceof Map);
}

function ensureGraphQLError(thrown: unknown): GraphQLError {
  const error = thrown instanceof Error ? thrown : new GraphQLError(`Unexpected error value: ${String(thrown)}`);
  return error instanceof GraphQLError ? error : new GraphQLError(error.message, { originalError: error });
}

/** graphql-js's coercion failure of a variable, which Apollo codes BAD_USER_INPUT. */
function isBadUserInputError(error: GraphQLError): boolean {
  const node = error.nodes?.length === 1 ? error.nodes[0] : undefined;
  if (node?.kind !== Kind.VARIABLE_DEFINITION || error.extensions?.code != null) return false;
  const name = node.variable.name.value;
  return [`has invalid value`, `got invalid value `, `of required type `, `of non-null type `].some((tail) =>
    error.message.startsWith(`Variable "$${name}" ${tail}`),
  );
}

function userInputError(error: GraphQLError): GraphQLError {
  const { nodes, extensions } = error;
  const originalError = error.originalError ?? error;
  return new GraphQLError(error.message, { nodes, originalError, extensions: { ...extensions, code: ErrorCode.BAD_USER_INPUT } });
}

function operationResolutionError(result: ExecutionResult): GraphQLError {
  const error = result.errors?.[0];
  if (error === undefined) {
    return new GraphQLError('Unexpected error: Apollo Server did not resolve an operation but execute did not return errors');
  }
  const extensions = { http: { status: 400, headers: new HeaderMap() }, ...error.extensions, code: RequestErrorCode.OPERATION_RESOLUTION_FAILURE };
  return new GraphQLError(error.message, { nodes: error.nodes, originalError: error.originalError ?? error, extensions });
}
