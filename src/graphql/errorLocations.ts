import type { Source, SourceLocation } from 'graphql';

type LocationModule = {
  getLocation(source: Source, position: number): SourceLocation;
  getLocations(locations: ReadonlyArray<{ readonly source: Source; readonly start: number }>): SourceLocation[];
};

/** Sources whose line breaks are kept: an operation's errors share one, and concurrent ones a few. */
const INDEXED_SOURCES = 8;
/** A field merged from many copies has a node, and so a location, for each: an error names this many. */
export const MAX_ERROR_LOCATIONS = 10;

const LF = 10;
const CR = 13;
/** Where each line break of the source starts, least recently used first. */
const indexes = new Map<Source, Int32Array>();

function lineBreaks(source: Source): Int32Array {
  let breaks = indexes.get(source);
  if (breaks !== undefined) {
    indexes.delete(source);
    indexes.set(source, breaks);
    return breaks;
  }
  const { body } = source;
  const found: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const code = body.charCodeAt(i);
    if (code === LF) found.push(i);
    else if (code === CR) {
      found.push(i);
      if (body.charCodeAt(i + 1) === LF) i++;
    }
  }
  breaks = Int32Array.from(found);
  indexes.set(source, breaks);
  if (indexes.size > INDEXED_SOURCES) indexes.delete(indexes.keys().next().value!);
  return breaks;
}

/** How many sources' line breaks are kept now (at most INDEXED_SOURCES). */
export function indexedSources(): number {
  return indexes.size;
}

/** graphql-js's answer (a break counts when it starts before `position`), by binary search. */
export function indexedLocation(source: Source, position: number): SourceLocation {
  const breaks = lineBreaks(source);
  let low = 0;
  let high = breaks.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (breaks[middle]! < position) low = middle + 1;
    else high = middle;
  }
  if (low === 0) return { line: 1, column: position + 1 };
  const at = breaks[low - 1]!;
  const next = source.body.charCodeAt(at) === CR && source.body.charCodeAt(at + 1) === LF ? at + 2 : at + 1;
  return { line: low + 1, column: position + 1 - next };
}

let installed = false;

/**
 * graphql-js finds each error's line and column by scanning its document from the start. An operation
 * whose every list item fails makes an error per item, each scanning as much text as comes before its
 * field: thousands of scans of a document of any length, in one turn. The same lines and columns come
 * from an index of the source's line breaks, kept for the last few sources; and an error names at most
 * MAX_ERROR_LOCATIONS of its nodes' locations (every error of a field merged from many copies would
 * list them all). GraphQLError reads the module's exports at each call, so replacing them there reaches
 * every error.
 */
export function indexErrorLocations(): void {
  if (installed) return;
  installed = true;
  const location = require('graphql/language/location') as LocationModule;
  location.getLocation = indexedLocation;
  location.getLocations = (locations) =>
    locations.slice(0, MAX_ERROR_LOCATIONS).map(({ source, start }) => indexedLocation(source, start));
}
