import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import {
  execute,
  GraphQLError,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';
import type { GatewayConfig } from '../../config/loadConfig';
import { ErrorCode } from '../../errors/codes';
import { GatewayError } from '../../errors/GatewayError';
import { canonicalDocument, literalVariables } from './canonicalDocument';
import { documentShape, type DocumentShape } from './documentShape';
import { expandedFieldCount } from './expandedSize';

/** Runs operations for Apollo Server: GRAPHQL_EXECUTOR, described in docs/architecture.md. */
export type OperationExecutor = (request: ExecutorRequest) => Promise<ExecutionResult>;

/** `operation`: Apollo's, resolved from `document`. */
type ExecutorRequest = { readonly operation: OperationDefinitionNode } &
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
    const result = await run(request);
    if (result.errors === undefined) return result;
    let converted: GraphQLError[] | undefined;
    result.errors.forEach((error, index) => {
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
    const shape = documentShape(request.document);
    // The shape names every operation in order: with the operation's place, a key of fixed size.
    const place = request.document.definitions.indexOf(request.operation);
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

/** Apollo's supported way to bring an executor: a "gateway" of one fixed schema (no per-field hooks). */
export function executionGateway(
  schema: GraphQLSchema,
  executor: OperationExecutor,
): ApolloServerOptionsWithGateway<never>['gateway'] {
  return {
    load: async () => ({
      executor: (context) => executor({
        document: context.document,
        operation: context.operation,
        // Not Apollo's resolved name, `null` for an unknown one (which would run the only operation).
        operationName: context.request.operationName ?? null,
        variableValues: context.request.variables,
        contextValue: context.context,
      }),
    }),
    onSchemaLoadOrUpdate: (callback) => {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    stop: async () => {},
  };
}
