import { getLocation, type Source, type SourceLocation } from 'graphql';

/** A node's location as the parsers leave it: the lexer's line and column on its start token. */
type NodeLocation = {
  readonly source: Source;
  readonly start: number;
  readonly startToken?: { readonly line: number; readonly column: number };
};

type LocationModule = {
  getLocation(source: Source, position: number): SourceLocation;
  getLocations(locations: readonly NodeLocation[]): SourceLocation[];
};

let installed = false;

/**
 * graphql-js finds each error's line and column by scanning its document from the start. An operation
 * whose every list item fails makes an error per item, each scanning as much text as comes before its
 * field: thousands of scans of a document of any length. The lexer counted them already, on each
 * node's start token (graphql-js's parser and admission's alike): errors read them there. A position
 * with no token (a syntax error's, the document's own start) is scanned, as graphql-js does.
 * GraphQLError reads the module's export at each call, so replacing it there reaches every error.
 */
export function locateErrorsByToken(): void {
  if (installed) return;
  installed = true;
  const location = require('graphql/language/location') as LocationModule;
  location.getLocations = locationsOf;
}

/** Each node location's line and column, from its start token (scanned where it has none). */
export function locationsOf(locations: readonly NodeLocation[]): SourceLocation[] {
  return locations.map(({ source, start, startToken }) =>
    startToken !== undefined && startToken.line > 0 ? { line: startToken.line, column: startToken.column } : getLocation(source, start),
  );
}
