import type { Source, SourceLocation } from 'graphql';

type LocationModule = {
  getLocation(source: Source, position: number): SourceLocation;
  getLocations(locations: ReadonlyArray<{ readonly source: Source; readonly start: number }>): SourceLocation[];
};

/** Where each line break of a source is, and where the line after it starts. */
type LineBreaks = { readonly at: number[]; readonly next: number[] };

const LINE_BREAK = /\r\n|[\n\r]/g;
const breaksOf = new WeakMap<Source, LineBreaks>();

function lineBreaks(source: Source): LineBreaks {
  let breaks = breaksOf.get(source);
  if (breaks === undefined) {
    breaks = { at: [], next: [] };
    for (const match of source.body.matchAll(LINE_BREAK)) {
      breaks.at.push(match.index);
      breaks.next.push(match.index + match[0].length);
    }
    breaksOf.set(source, breaks);
  }
  return breaks;
}

/** graphql-js's answer (a break counts when it starts before `position`), by binary search. */
export function indexedLocation(source: Source, position: number): SourceLocation {
  const { at, next } = lineBreaks(source);
  let low = 0;
  let high = at.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (at[middle]! < position) low = middle + 1;
    else high = middle;
  }
  return { line: low + 1, column: position + 1 - (low === 0 ? 0 : next[low - 1]!) };
}

let installed = false;

/**
 * graphql-js finds each error's line and column by scanning its document from the start. An operation
 * whose every list item fails makes an error per item, each scanning as much text as comes before its
 * field: thousands of scans of a document of any length, in one turn. The same lines and columns come
 * from an index of the source's line breaks, built once per source; GraphQLError reads the module's
 * exports at each call, so replacing them there reaches every error.
 */
export function indexErrorLocations(): void {
  if (installed) return;
  installed = true;
  const location = require('graphql/language/location') as LocationModule;
  location.getLocation = indexedLocation;
  location.getLocations = (locations) => locations.map(({ source, start }) => indexedLocation(source, start));
}
