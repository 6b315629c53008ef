import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import { execute, type GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';
import { hash } from 'node:crypto';
import { canonicalDocument, literalVariables } from './canonicalDocument';
import { documentShape, type DocumentShape } from './documentShape';
import { expandedFieldCount } from './expandedSize';
import { rebuildError, unrepresentableType, upstreamValueError, type UnrepresentableValue } from './upstreamValues';

/**
 * Runs operations for Apollo Server with the configured executor:
 *
 * - `adaptive`: graphql-js interprets a document until its shape (the document apart from its
 *   Int, Float and String literals, see documentShape) is hot. Compiling a document used once
 *   costs more than interpreting it, so only then, off the request path, graphql-jit compiles the
 *   shape's canonical document (literals as variables), and that plan serves every later document
 *   of the shape, including clients that write their arguments inline.
 * - `compiled`: each (document, operation name) is compiled on its first use.
 * - `graphql-js`: the interpreter, the reference.
 *
 * Results are what graphql-js would answer. Where graphql-jit differs:
 * - its errors become graphql-js `GraphQLError`s (Apollo's formatting reads `extensions`);
 * - variables it cannot coerce, documents it cannot compile, and documents whose fragments
 *   expand past MAX_COMPILED_FIELDS (graphql-jit inlines fragments, so its work can grow
 *   exponentially with the document) run through graphql-js;
 * - a shape plan's answer with errors is made again by graphql-js from the caller's document, so
 *   its locations are the caller's (the loaders already hold every upstream answer).
 *
 * A field whose upstream value its type cannot represent fails as UPSTREAM_BAD_RESPONSE and is
 * told to `onUnrepresentable` by path and type: the serializer's message quotes upstream content.
 */
export type OperationExecutor = (request: ExecutorRequest) => Promise<ExecutionResult>;

export interface ExecutorRequest {
  readonly document: DocumentNode;
  readonly operationName?: string | null;
  readonly variables?: Record<string, unknown>;
  readonly contextValue: unknown;
}

export interface OperationExecutorOptions {
  readonly mode: 'adaptive' | 'compiled' | 'graphql-js';
  /** Adaptive: uses of a shape within HOT_WINDOW_MS after which it is compiled. */
  readonly compileAfterUses: number;
  /** Adaptive: bound of the compiled plans, in estimated bytes. */
  readonly plansMaxBytes: number;
  readonly onUnrepresentable?: (value: UnrepresentableValue, contextValue: unknown) => void;
  readonly onExecuted?: (how: 'compiled' | 'interpreted') => void;
  readonly onCompiled?: (durationMs: number) => void;
}

/** Past this many fields with fragments inlined, a document is interpreted: compiles stay short. */
const MAX_COMPILED_FIELDS = 300;
const HOT_WINDOW_MS = 60_000;
/** A compiled plan's size, estimated per inlined field (source and closures), rounded up. */
const PLAN_BYTES_PER_FIELD = 1024;
const MAX_COUNTED_SHAPES = 10_000;
/** A cached document may be sent with any number of operation names; only the first few are kept. */
const MAX_NAMES_PER_DOCUMENT = 16;
/** Compiles waiting off the request path; more are dropped (asked for again later). */
const MAX_PENDING_COMPILES = 32;

/** A compiled operation and its inlined field count, or `null` when it is interpreted. */
type Compiled = { readonly query: CompiledQuery; readonly fields: number } | null;
type Interpreter = (request: ExecutorRequest) => Promise<ExecutionResult> | ExecutionResult;
type Compile = (document: DocumentNode, operationName: string | undefined) => Compiled;
type CompiledRun = (compiled: CompiledQuery, request: ExecutorRequest, variables: Record<string, unknown> | undefined) => Promise<ExecutionResult | undefined>;

export function createOperationExecutor(schema: GraphQLSchema, options: OperationExecutorOptions): OperationExecutor {
  const interpreted = (request: ExecutorRequest) => {
    options.onExecuted?.('interpreted');
    return execute({
      schema,
      document: request.document,
      operationName: request.operationName,
      variableValues: request.variables,
      contextValue: request.contextValue,
    });
  };
  const compile: Compile = (document, operationName) => {
    const started = performance.now();
    const fields = expandedFieldCount(document, operationName);
    if (fields > MAX_COMPILED_FIELDS) return null;
    const query = compileQuery(schema, document, operationName);
    if (!isCompiledQuery(query)) return null;
    options.onCompiled?.(performance.now() - started);
    return { query, fields };
  };
  const compiledRun: CompiledRun = (compiled, request, variables) => {
    options.onExecuted?.('compiled');
    return runCompiled(compiled, request, variables);
  };
  const run: OperationExecutor =
    options.mode === 'compiled'
      ? compiledRunner(compile, compiledRun, interpreted)
      : options.mode === 'adaptive'
        ? adaptiveRunner(schema, compile, compiledRun, interpreted, options.compileAfterUses, options.plansMaxBytes)
        : async (request) => interpreted(request);

  return async (request) => {
    const result = await run(request);
    if (result.errors === undefined) return result;
    let converted: GraphQLError[] | undefined;
    result.errors.forEach((error, index) => {
      const type = unrepresentableType(error);
      if (type === undefined) return;
      converted ??= [...result.errors!];
      converted[index] = upstreamValueError(error, type);
      options.onUnrepresentable?.({ path: error.path!, type }, request.contextValue);
    });
    return converted === undefined ? result : { ...result, errors: converted };
  };
}

/** graphql-jit's answer as graphql-js would make it, or `undefined` where graphql-js must answer. */
async function runCompiled(compiled: CompiledQuery, request: ExecutorRequest, variables: Record<string, unknown> | undefined): Promise<ExecutionResult | undefined> {
  const result = await compiled.query(undefined, request.contextValue, variables);
  // No `data` at all: the variables were refused before execution started.
  if (!('data' in result)) return undefined;
  return result.errors === undefined ? result : { ...result, errors: result.errors.map(asGraphQLJsError) };
}

/** Per (document, name) in maps keyed by the DocumentNode: Apollo's store keeps one per query text. */
function namesOf<V>(byDocument: WeakMap<DocumentNode, Map<string, V>>, document: DocumentNode): Map<string, V> {
  let byName = byDocument.get(document);
  if (byName === undefined) byDocument.set(document, (byName = new Map()));
  return byName;
}

function compiledRunner(compile: Compile, compiledRun: CompiledRun, interpreted: Interpreter): OperationExecutor {
  const compiledByDocument = new WeakMap<DocumentNode, Map<string, Compiled>>();
  return async (request) => {
    const byName = namesOf(compiledByDocument, request.document);
    const name = request.operationName ?? undefined;
    let compiled = byName.get(name ?? '');
    if (compiled === undefined) {
      compiled = compile(request.document, name);
      if (byName.size < MAX_NAMES_PER_DOCUMENT) byName.set(name ?? '', compiled);
    }
    if (compiled === null) return interpreted(request);
    return (await compiledRun(compiled.query, request, request.variables)) ?? interpreted(request);
  };
}

/** A shape's plan: the canonical document compiled, or `null` when the shape is interpreted for good. */
interface ShapePlan {
  readonly compiled: CompiledQuery | null;
  readonly numeric: readonly boolean[];
  readonly bytes: number;
}

function adaptiveRunner(
  schema: GraphQLSchema,
  compile: Compile,
  compiledRun: CompiledRun,
  interpreted: Interpreter,
  compileAfterUses: number,
  plansMaxBytes: number,
): OperationExecutor {
  // The plan key per operation name, made once per document so requests look up the same string.
  const planKeys = new WeakMap<DocumentNode, Map<string, string>>();
  const plans = new LRUCache<string, ShapePlan>({ maxSize: plansMaxBytes, sizeCalculation: (plan) => plan.bytes });
  const uses = new LRUCache<string, { count: number; since: number }>({ max: MAX_COUNTED_SHAPES });
  const pending = new Set<string>();

  const used = (key: string, document: DocumentNode, shape: DocumentShape, operationName: string | undefined): void => {
    const now = performance.now();
    let seen = uses.get(key);
    if (seen === undefined || now - seen.since > HOT_WINDOW_MS) uses.set(key, (seen = { count: 0, since: now }));
    seen.count += 1;
    if (seen.count < compileAfterUses || pending.has(key) || pending.size >= MAX_PENDING_COMPILES) return;
    pending.add(key);
    // After the response that made the shape hot.
    setImmediate(() => {
      pending.delete(key);
      if (plans.has(key)) return;
      const canonical = canonicalDocument(schema, document, shape);
      const compiled = canonical === undefined ? null : compile(canonical.document, operationName);
      const bytes = compiled === null ? 64 : Math.max(1, compiled.fields) * PLAN_BYTES_PER_FIELD;
      plans.set(key, { compiled: compiled?.query ?? null, numeric: canonical?.numeric ?? [], bytes });
      uses.delete(key);
    });
  };

  return async (request) => {
    const shape = documentShape(request.document);
    const keys = namesOf(planKeys, request.document);
    const operationName = request.operationName ?? undefined;
    let key = keys.get(operationName ?? '');
    if (key === undefined) {
      // Hashed with the name: a key of fixed size, however long the name.
      key = hash('sha256', `${operationName ?? ''}\u0000${shape.key}`, 'base64url');
      if (keys.size < MAX_NAMES_PER_DOCUMENT) keys.set(operationName ?? '', key);
    }
    const plan = plans.get(key);
    if (plan === undefined) {
      used(key, request.document, shape, operationName);
      return interpreted(request);
    }
    if (plan.compiled === null) return interpreted(request);
    const variables = literalVariables(shape.literals, plan.numeric, request.variables);
    if (variables === undefined) return interpreted(request);
    const result = await compiledRun(plan.compiled, request, variables);
    if (result === undefined || result.errors !== undefined) return interpreted(request);
    return result;
  };
}

/** The same error as graphql-js would have made (graphql-jit's class may lack `extensions`). */
function asGraphQLJsError(error: GraphQLError): GraphQLError {
  return rebuildError(error, { message: error.message, originalError: error.originalError ?? undefined, extensions: error.extensions });
}

/**
 * Apollo Server has no executor option for a plain schema; its gateway interface is the supported
 * way to bring one. This "gateway" serves one fixed schema: Apollo still parses, validates and
 * caches documents and runs every plugin hook but the per-field ones.
 */
export function executionGateway(schema: GraphQLSchema, executor: OperationExecutor): ApolloServerOptionsWithGateway<never>['gateway'] {
  return {
    load: async () => ({
      executor: (context) =>
        executor({
          document: context.document,
          // The caller's name, not Apollo's resolved one (`null` for an unknown name, which would
          // run the document's only operation): execution refuses it, and Apollo answers
          // OPERATION_RESOLUTION_FAILURE.
          operationName: context.request.operationName ?? null,
          variables: context.request.variables,
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
