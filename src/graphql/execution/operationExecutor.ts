import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import { execute, type GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { expandedFieldCount } from './expandedSize';
import { rebuildError } from './rebuildError';
import { unrepresentableType, upstreamValueError, type UnrepresentableValue } from './upstreamValues';

/**
 * Runs operations for Apollo Server, whichever executor the configuration chose:
 *
 * - `compiled`: each (document, operation name) is compiled once by graphql-jit into a plain
 *   JavaScript function, which then runs without graphql-js's per-field interpretation (field
 *   collection, argument coercion, path objects, completion dispatch).
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
 *   merges fields and stays linear.
 *
 * With either executor, a field whose upstream value its type cannot represent (an object for a
 * `String`, a number beyond `Int`) fails as UPSTREAM_BAD_RESPONSE at its path, and is reported to
 * `onUnrepresentable` by path and type: the serializer's own message quotes the value, which is
 * upstream content and goes neither to the client nor to the log.
 *
 * Compiled operations are kept per parsed document in a WeakMap: Apollo's document store (an
 * LRU) keeps one DocumentNode per query text, so they live exactly as long as the document
 * does and need no bound of their own.
 */
export type OperationExecutor = (request: ExecutorRequest) => Promise<ExecutionResult>;

export interface ExecutorRequest {
  readonly document: DocumentNode;
  readonly operationName?: string | null;
  readonly variables?: Record<string, unknown>;
  readonly contextValue: unknown;
}

export type ExecutorMode = 'compiled' | 'graphql-js';

export interface OperationExecutorOptions {
  readonly mode: ExecutorMode;
  /** Told of each field that failed because of an upstream value its type cannot represent. */
  readonly onUnrepresentable?: (value: UnrepresentableValue, contextValue: unknown) => void;
}

/**
 * Past this many fields with every fragment inlined, a document is interpreted, not compiled.
 * Real documents stay far below (the dashboard query has under 40); graphql-jit compiles about a
 * field per 2 µs, so the bound keeps any compile to a few milliseconds.
 */
export const MAX_COMPILED_FIELDS = 2000;

/** A compiled operation, or `null` when it is interpreted (graphql-jit could not, or should not, compile it). */
type Compiled = CompiledQuery | null;

export function createOperationExecutor(schema: GraphQLSchema, options: OperationExecutorOptions): OperationExecutor {
  const interpreted = (request: ExecutorRequest) =>
    execute({
      schema,
      document: request.document,
      operationName: request.operationName,
      variableValues: request.variables,
      contextValue: request.contextValue,
    });
  const run: OperationExecutor = options.mode === 'compiled' ? compiledRunner(schema, interpreted) : async (request) => interpreted(request);

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

function compiledRunner(schema: GraphQLSchema, interpreted: (request: ExecutorRequest) => Promise<ExecutionResult> | ExecutionResult): OperationExecutor {
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
      compiled = null;
      if (expandedFieldCount(document, operationName) <= MAX_COMPILED_FIELDS) {
        const made = compileQuery(schema, document, operationName);
        if (isCompiledQuery(made)) compiled = made;
      }
      byName.set(key, compiled);
    }
    return compiled;
  };

  return async (request) => {
    const compiled = compiledFor(request.document, request.operationName ?? undefined);
    if (compiled === null) return interpreted(request);
    const result = await compiled.query(undefined, request.contextValue, request.variables);
    // No `data` at all: the variables were refused before execution started.
    if (!('data' in result)) return interpreted(request);
    return result.errors === undefined ? result : { ...result, errors: result.errors.map(asGraphQLJsError) };
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
