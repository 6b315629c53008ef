import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import { execute, type GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';
import { hash } from 'node:crypto';
import { canonicalDocument, literalVariables } from './canonicalDocument';
import { documentShape, type DocumentShape } from './documentShape';
import { expandedFieldCount } from './expandedSize';
import { rebuildError } from './rebuildError';
import { unrepresentableType, upstreamValueError, type UnrepresentableValue } from './upstreamValues';

/**
 * Runs operations for Apollo Server, whichever executor the configuration chose:
 *
 * - `adaptive` (the default): graphql-js interprets a document until its shape — the document
 *   apart from its Int, Float and String literals (see documentShape) — has proved hot: used
 *   `compileAfterUses` times within {@link HOT_WINDOW_MS}. Then, off the request path (after the
 *   response that made it hot), graphql-jit compiles the shape's canonical document, its literals
 *   turned into variables (see canonicalDocument), and that one plan serves every later document
 *   of the shape — also the new texts of a client that writes its arguments inline. Compiling a
 *   document used once costs more than interpreting it (a few milliseconds against a fraction of
 *   one); the plans are kept in an LRU bounded by bytes.
 * - `compiled`: each (document, operation name) is compiled on its first use, on the request path.
 * - `graphql-js`: graphql-js's interpreter, the reference.
 *
 * Results are what graphql-js would answer; where graphql-jit differs in shape, the executor
 * makes up for it:
 * - errors become graphql-js `GraphQLError`s (graphql-jit's own class may lack `extensions`,
 *   which Apollo's error formatting reads), keeping message, path, locations and cause;
 * - an operation whose variables cannot be coerced runs through graphql-js instead, so the
 *   error names the variable definition and Apollo reports it as BAD_USER_INPUT (HTTP 400);
 * - a document graphql-jit cannot compile runs through graphql-js;
 * - so does a document whose fragments expand to more than {@link MAX_COMPILED_FIELDS} fields
 *   (see `expandedFieldCount`): graphql-jit inlines fragments where they are spread, so its work
 *   grows with that expansion, which can be exponential in the document's size, while graphql-js
 *   merges fields and stays linear;
 * - a shape plan's answer with errors is made again by graphql-js from the document itself, in the
 *   same context: its errors then point at the caller's own text (the plan's locations are those
 *   of the first document of the shape), and the loaders already hold every upstream answer.
 *
 * With either executor, a field whose upstream value its type cannot represent (an object for a
 * `String`, a number beyond `Int`) fails as UPSTREAM_BAD_RESPONSE at its path, and is reported to
 * `onUnrepresentable` by path and type: the serializer's own message quotes the value, which is
 * upstream content and goes neither to the client nor to the log.
 */
export type OperationExecutor = (request: ExecutorRequest) => Promise<ExecutionResult>;

export interface ExecutorRequest {
  readonly document: DocumentNode;
  readonly operationName?: string | null;
  readonly variables?: Record<string, unknown>;
  readonly contextValue: unknown;
}

export type ExecutorMode = 'adaptive' | 'compiled' | 'graphql-js';

export interface OperationExecutorOptions {
  readonly mode: ExecutorMode;
  /** Adaptive: uses of a shape within {@link HOT_WINDOW_MS} after which it is compiled (`GRAPHQL_COMPILE_AFTER_USES`). */
  readonly compileAfterUses: number;
  /** Adaptive: bound of the compiled plans, in estimated bytes (`COMPILED_PLANS_MAX_BYTES`). */
  readonly plansMaxBytes: number;
  /** Told of each field that failed because of an upstream value its type cannot represent. */
  readonly onUnrepresentable?: (value: UnrepresentableValue, contextValue: unknown) => void;
  /** Adaptive: how a compile is put off the request path (tests run it at once). */
  readonly defer?: (compile: () => void) => void;
  /** Told how each operation ran, and of each compile (metrics). */
  readonly onExecuted?: (how: 'compiled' | 'interpreted') => void;
  readonly onCompiled?: (durationMs: number) => void;
}

/**
 * Past this many fields with every fragment inlined, a document is interpreted, not compiled.
 * Real documents stay far below (the dashboard query has under 40); graphql-jit compiles a field
 * in a few tenths of a millisecond, so the bound keeps any compile short.
 */
export const MAX_COMPILED_FIELDS = 300;

/** How recent a shape's uses must be to make it hot. */
export const HOT_WINDOW_MS = 60_000;

/**
 * What a compiled plan holds, estimated per inlined field: the generated function's source and
 * closures, about 700 bytes per field measured with heap snapshots, rounded up.
 */
const PLAN_BYTES_PER_FIELD = 1024;

/** Shapes whose uses are being counted at once; the least recently used are forgotten. */
const MAX_COUNTED_SHAPES = 10_000;

/**
 * Operation names remembered per document. A caller may send one cached document with any number
 * of names (each but the document's own fails); only the first few are kept.
 */
const MAX_NAMES_PER_DOCUMENT = 16;

/** Compiles waiting for their turn off the request path; more are dropped (asked for again later). */
const MAX_PENDING_COMPILES = 32;

/** A compiled operation, or `null` when it is interpreted (graphql-jit could not, or should not, compile it). */
type Compiled = CompiledQuery | null;

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
  const compile = (document: DocumentNode, operationName: string | undefined): Compiled => {
    const started = performance.now();
    const compiled = compileOrNull(schema, document, operationName);
    if (compiled !== null) options.onCompiled?.(performance.now() - started);
    return compiled;
  };
  const compiledRun = (compiled: CompiledQuery, request: ExecutorRequest, variables: Record<string, unknown> | undefined) => {
    options.onExecuted?.('compiled');
    return runCompiled(compiled, request, variables);
  };
  const run: OperationExecutor =
    options.mode === 'compiled'
      ? compiledRunner(compile, compiledRun, interpreted)
      : options.mode === 'adaptive'
        ? adaptiveRunner(schema, compile, compiledRun, interpreted, options)
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

type Interpreter = (request: ExecutorRequest) => Promise<ExecutionResult> | ExecutionResult;
type Compile = (document: DocumentNode, operationName: string | undefined) => Compiled;
type CompiledRun = (compiled: CompiledQuery, request: ExecutorRequest, variables: Record<string, unknown> | undefined) => Promise<ExecutionResult | undefined>;

/** graphql-jit's answer as graphql-js would have made it, or `undefined` where graphql-js must answer instead. */
async function runCompiled(compiled: CompiledQuery, request: ExecutorRequest, variables: Record<string, unknown> | undefined): Promise<ExecutionResult | undefined> {
  const result = await compiled.query(undefined, request.contextValue, variables);
  // No `data` at all: the variables were refused before execution started.
  if (!('data' in result)) return undefined;
  return result.errors === undefined ? result : { ...result, errors: result.errors.map(asGraphQLJsError) };
}

function compileOrNull(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined): Compiled {
  if (expandedFieldCount(document, operationName) > MAX_COMPILED_FIELDS) return null;
  const made = compileQuery(schema, document, operationName);
  return isCompiledQuery(made) ? made : null;
}

function compiledRunner(compile: Compile, compiledRun: CompiledRun, interpreted: Interpreter): OperationExecutor {
  // Per parsed document: Apollo's document store (bounded by bytes) keeps one DocumentNode per
  // query text, so these live exactly as long as the document does.
  const compiledByDocument = new WeakMap<DocumentNode, Map<string, Compiled>>();

  const compiledFor = (document: DocumentNode, operationName: string | undefined): Compiled => {
    let byName = compiledByDocument.get(document);
    if (byName === undefined) {
      byName = new Map();
      compiledByDocument.set(document, byName);
    }
    const key = operationName ?? '';
    let compiled = byName.get(key);
    if (compiled === undefined) {
      compiled = compile(document, operationName);
      if (byName.size < MAX_NAMES_PER_DOCUMENT) byName.set(key, compiled);
    }
    return compiled;
  };

  return async (request) => {
    const compiled = compiledFor(request.document, request.operationName ?? undefined);
    if (compiled === null) return interpreted(request);
    return (await compiledRun(compiled, request, request.variables)) ?? interpreted(request);
  };
}

/** A shape's compiled plan: the canonical document's, or `null` when the shape is interpreted for good. */
interface ShapePlan {
  readonly compiled: CompiledQuery | null;
  readonly numeric: readonly boolean[];
  readonly bytes: number;
}

function adaptiveRunner(schema: GraphQLSchema, compile: Compile, compiledRun: CompiledRun, interpreted: Interpreter, options: OperationExecutorOptions): OperationExecutor {
  // Per parsed document (Apollo's store keeps one per text, bounded by bytes): the plan key per
  // operation name, made once so every request looks up the same string.
  const planKeys = new WeakMap<DocumentNode, Map<string, string>>();
  const plans = new LRUCache<string, ShapePlan>({ maxSize: options.plansMaxBytes, sizeCalculation: (plan) => plan.bytes });
  const uses = new LRUCache<string, { count: number; since: number }>({ max: MAX_COUNTED_SHAPES });
  const pending = new Set<string>();
  const defer = options.defer ?? ((compile: () => void) => void setImmediate(compile));

  const keysOf = (document: DocumentNode) => {
    let keys = planKeys.get(document);
    if (keys === undefined) planKeys.set(document, (keys = new Map()));
    return keys;
  };

  /** Counts a use of the shape; once it is hot, its compile is put off the request path. */
  const used = (key: string, document: DocumentNode, shape: DocumentShape, operationName: string | undefined): void => {
    const now = performance.now();
    let seen = uses.get(key);
    if (seen === undefined || now - seen.since > HOT_WINDOW_MS) uses.set(key, (seen = { count: 0, since: now }));
    seen.count += 1;
    if (seen.count < options.compileAfterUses || pending.has(key) || pending.size >= MAX_PENDING_COMPILES) return;
    pending.add(key);
    defer(() => {
      pending.delete(key);
      if (plans.has(key)) return;
      const canonical = canonicalDocument(schema, document, shape);
      const compiled = canonical === undefined ? null : compile(canonical.document, operationName);
      const bytes = compiled === null ? 64 : Math.max(1, expandedFieldCount(canonical!.document, operationName)) * PLAN_BYTES_PER_FIELD;
      plans.set(key, { compiled, numeric: canonical?.numeric ?? [], bytes });
      uses.delete(key);
    });
  };

  return async (request) => {
    const shape = documentShape(request.document);
    const keys = keysOf(request.document);
    const operationName = request.operationName ?? undefined;
    let key = keys.get(operationName ?? '');
    if (key === undefined) {
      // Hashed with the name: a key of fixed size, however long the operation's name.
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
    // Errors are made again from the caller's own document (see the module comment).
    if (result === undefined || result.errors !== undefined) return interpreted(request);
    return result;
  };
}

/** The same error as graphql-js would have made it (see the module comment). */
export function asGraphQLJsError(error: GraphQLError): GraphQLError {
  return rebuildError(error, { message: error.message, originalError: error.originalError ?? undefined, extensions: error.extensions });
}

/**
 * Apollo Server has no executor option for a plain schema; its gateway interface is the
 * supported way to run operations with an executor of one's own. This "gateway" serves one
 * fixed schema: Apollo still parses, validates (with our rules) and caches documents, runs every
 * plugin hook but the per-field ones, and hands the executor the parsed document.
 */
export function executionGateway(schema: GraphQLSchema, executor: OperationExecutor): ApolloServerOptionsWithGateway<never>['gateway'] {
  return {
    load: async () => ({
      executor: (context) =>
        executor({
          document: context.document,
          // The name the caller asked for, not the one Apollo resolved: Apollo's gateway view
          // gives `null` for an unknown name, and executing the document's only operation then
          // would answer (and call the upstream for) an operation nobody asked for. With the
          // caller's name, execution refuses it and Apollo answers OPERATION_RESOLUTION_FAILURE.
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
