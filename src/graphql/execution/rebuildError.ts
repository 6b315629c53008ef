import { GraphQLError } from 'graphql';

/**
 * A graphql-js `GraphQLError` at the same path and locations as `error`, with the given message,
 * cause and extensions. graphql-js computes locations from AST nodes, which graphql-jit has
 * already turned into line/column pairs; they are carried over as they are.
 */
export function rebuildError(
  error: GraphQLError,
  parts: { readonly message: string; readonly originalError: Error | undefined; readonly extensions: GraphQLError['extensions'] },
): GraphQLError {
  const rebuilt = new GraphQLError(parts.message, { path: error.path, originalError: parts.originalError, extensions: parts.extensions });
  if (error.locations !== undefined) (rebuilt as { locations?: GraphQLError['locations'] }).locations = error.locations;
  return rebuilt;
}
