import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import { execute, GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/**
 * Executes operations with graphql-jit: each (document, operation name) is compiled once into a
 * plain JavaScript function, which then runs without graphql-js's per-field interpretation
 * (field collection, argument coercion, path objects, completion dispatch). On the cold-page
 * benchmark that interpretation was the gateway's largest CPU cost after the upstream I/O.
 *
 * Results are what graphql-js would answer; where graphql-jit differs in shape, the executor
 * makes up for it:
 * - errors become graphql-js `GraphQLError`s (graphql-jit's own class may lack `extensions`,
 *   which Apollo's error formatting reads), keeping message, path, locations and cause;
 * - an operation whose variables cannot be coerced runs through graphql-js instead, so the
 *   error names the variable definition and Apollo reports it as BAD_USER_INPUT (HTTP 400);
 * - a document graphql-jit cannot compile also runs through graphql-js.
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

/** A compiled operation, or `null` when graphql-jit could not compile it. */
type Compiled = CompiledQuery | null;

export function createCompiledExecutor(schema: GraphQLSchema): OperationExecutor {
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
      const made = compileQuery(schema, document, operationName);
      compiled = isCompiledQuery(made) ? made : null;
      byName.set(key, compiled);
    }
    return compiled;
  };

  const interpreted = (request: ExecutorRequest) =>
    execute({
      schema,
      document: request.document,
      operationName: request.operationName,
      variableValues: request.variables,
      contextValue: request.contextValue,
    });

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
  const original = error.originalError ?? undefined;
  const converted = new GraphQLError(error.message, {
    path: error.path,
    originalError: original,
    extensions: error.extensions,
  });
  // graphql-js computes locations from AST nodes, which graphql-jit has already turned into
  // line/column pairs; they are carried over as they are.
  if (error.locations !== undefined) (converted as { locations?: GraphQLError['locations'] }).locations = error.locations;
  return converted;
}

/**
 * Apollo Server has no executor option for a plain schema; its gateway interface is the
 * supported way to run operations with an executor of one's own. This "gateway" serves one
 * fixed schema: Apollo still parses, validates (with our rules) and caches documents, runs every
 * plugin hook but the per-field ones, and hands the executor the parsed document.
 */
export function compiledExecutionGateway(schema: GraphQLSchema, executor: OperationExecutor): ApolloServerOptionsWithGateway<never>['gateway'] {
  return {
    load: async () => ({
      executor: (context) =>
        executor({
          document: context.document,
          operationName: context.operationName,
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
